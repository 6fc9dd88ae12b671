// What never reaches a log line (decisions.md §1): credentials and secrets.
//
// A pino `formatters.log` hook rather than pino's path-based `redact`: that one walked ~30 paths
// (wildcards included) on every line and cost as much as writing the line — some 25 µs a line
// under load (issue 6). This looks only where the paths looked (the top level and one level
// down, and header objects), and copies only an object that holds a secret.

/** Replaces every redacted value. */
export const REDACTED = '[redacted]';

/** Field names whose values are secrets, wherever they appear at the top or one level down. */
const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'authorization',
  'Authorization',
  'proxyAuthorization',
  'proxy-authorization',
  'Proxy-Authorization',
  'password',
  'secret',
  'apiKey',
  'httpAuthPwd',
  'xmlSecret',
  'hookSecret',
]);

/** Names in HTTP header objects as Node hands them over (lower case), under a `headers` field. */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie']);

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** A copy of `o` with the named keys censored, or `o` itself when it has none of them. */
function censorKeys(o: Obj, names: ReadonlySet<string>): Obj {
  let out: Obj | undefined;
  for (const k in o) {
    if (names.has(k) && o[k] !== undefined) {
      out ??= { ...o };
      out[k] = REDACTED;
    }
  }
  return out ?? o;
}

/** A nested object: its own secret fields, and its `headers`. */
function redactNested(o: Obj): Obj {
  let out = censorKeys(o, SECRET_FIELDS);
  const headers = out['headers'];
  if (isObject(headers)) {
    const h = censorKeys(headers, SECRET_HEADERS);
    if (h !== headers) {
      if (out === o) out = { ...o };
      out['headers'] = h;
    }
  }
  return out;
}

/**
 * The logged object with every secret replaced by REDACTED: secret fields at the top level and
 * one level down; `authorization`, `proxy-authorization` and `cookie` in a `headers` object at
 * the top level, under `req`, or one level down. The caller's object is never modified.
 */
export function redactSecrets(obj: Obj): Obj {
  let out: Obj | undefined;
  for (const k in obj) {
    const v = obj[k];
    let replaced: unknown = v;
    if (SECRET_FIELDS.has(k)) {
      if (v !== undefined) replaced = REDACTED;
    } else if (isObject(v)) {
      replaced = k === 'headers' ? censorKeys(v, SECRET_HEADERS) : redactNested(v);
    }
    if (replaced !== v) {
      out ??= { ...obj };
      out[k] = replaced;
    }
  }
  return out ?? obj;
}
