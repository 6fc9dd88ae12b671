// The HTTP interface: the server, the legacy trigger and the admin authentication.
export {
  createHttpServer,
  DEFAULT_BODY_LIMIT,
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_SIZE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type HttpListenAddress,
  type HttpServer,
  type HttpServerCounters,
  type HttpServerHandlers,
  type HttpServerOptions,
} from './server.js';
export {
  CLICKTOCALL_PATH,
  INDEX_PATH,
  MISSING_PARAMETERS_TEXT,
  initiatingText,
  legacyRoutes,
  parseLegacyQuery,
  type LegacyQuery,
  type LegacyRoutesOptions,
} from './legacy.js';
export {
  ADMIN_USER,
  createAuthHook,
  defaultRealm,
  HttpAuthenticator,
  type AuthHookOptions,
  type HttpAuthFailure,
  type HttpAuthInput,
  type HttpAuthOptions,
  type HttpAuthVerdict,
} from './auth.js';
export { escapeHtml, sendHtml } from './html.js';
export {
  noopHttpLogger,
  type CallMode,
  type HttpClient,
  type HttpLogger,
  type LegacyCallHandler,
  type LegacyCallRequest,
  type LegacySubmitResult,
} from './types.js';
