// What never reaches a log line (decisions.md §1): credentials and secrets.

/** Replaces every redacted value. */
export const REDACTED = '[redacted]';

/** Field names whose values are secrets, wherever they appear at the top or one level down. */
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'proxyAuthorization',
  '["proxy-authorization"]',
  '["Proxy-Authorization"]',
  'password',
  'secret',
  'apiKey',
  'httpAuthPwd',
  'xmlSecret',
  'hookSecret',
];

/** HTTP header objects as Node hands them over (names in lower case). */
const HEADER_PATHS = [
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  '*.headers.authorization',
  '*.headers["proxy-authorization"]',
];

function nested(field: string): string {
  return field.startsWith('[') ? `*${field}` : `*.${field}`;
}

/** pino `redact.paths`. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map(nested),
  ...HEADER_PATHS,
];
