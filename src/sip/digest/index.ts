// Digest authentication (RFC 7616, RFC 2617, RFC 2069, RFC 8760), shared by the SIP stack and
// the HTTP API: works on header value strings and plain objects only.
export {
  parseChallenges,
  parseCredentials,
  formatChallenge,
  formatCredentials,
  isSafeHeaderText,
  type AuthChallenge,
  type AuthCredentials,
  type Parsed,
} from './header.js';
export {
  computeHA1,
  computeHA2,
  computeResponse,
  digestHash,
  formatNonceCount,
  parseNonceCount,
  parseAlgorithm,
  isSessionAlgorithm,
  responseLength,
  type DigestAlgorithm,
  type DigestQop,
  type DigestResponseInput,
} from './compute.js';
export {
  DigestClient,
  buildAuthorization,
  selectChallenge,
  usableChallenge,
  type BuildAuthorizationInput,
  type DigestAuthorization,
  type DigestClientOptions,
  type DigestRequestInfo,
  type DigestUserCredentials,
  type UsableChallenge,
} from './client.js';
export {
  DigestServer,
  type DigestFailureReason,
  type DigestServerOptions,
  type DigestVerifyRequest,
  type DigestVerifyResult,
} from './server.js';
