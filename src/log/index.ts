export { LOG_LEVELS, toPinoLevel, parseLogLevel, legacyLevelName } from './levels.js';
export { createLogger, type CreateLoggerOptions, type LogHandle } from './logger.js';
export { RotatingFileDestination, type RotatingFileOptions } from './rotating-file.js';
export { sipMessageLogger, redactSipCredentials, type SipMessageLogFn, type SipTraceOptions } from './sip-trace.js';
export { formatPrettyLine, formatClock, createPrettyStream } from './pretty.js';
export { redactSecrets, REDACTED } from './redact.js';
