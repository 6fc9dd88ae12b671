// Checks that concern several settings at once (decisions.md §1). They name the file, not a line.
import type { Config } from './config.js';
import { DEFAULT_HTTP_PASSWORD, isTriggerReachableBeyondLoopback } from './exposure.js';
import { problem, type ConfigProblem } from './problems.js';

export function validateConfig(config: Config, fileName: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = { file: fileName };
  const error = (setting: string, message: string) => problems.push(problem('error', at, setting, message));
  const warn = (setting: string | undefined, message: string) => problems.push(problem('warning', at, setting, message));

  if (config.sipT2 < config.sipT1) error('SipT2', `${config.sipT2} ms is less than SipT1 (${config.sipT1} ms)`);
  if (config.httpHeadersTimeout > config.httpRequestTimeout) {
    error('HttpHeadersTimeout', `${config.httpHeadersTimeout} s is more than HttpRequestTimeout (${config.httpRequestTimeout} s)`);
  }
  if (config.webhookRetryDelay > config.webhookMaxRetryDelay) {
    error('WebhookRetryDelay', `${config.webhookRetryDelay} s is more than WebhookMaxRetryDelay (${config.webhookMaxRetryDelay} s)`);
  }
  // A stream's heartbeat is its only traffic between events: at or beyond the idle timeout the
  // server would destroy a quiet stream before its next ping.
  if (config.httpEventHeartbeat >= config.httpIdleTimeout) {
    error('HttpEventHeartbeat', `${config.httpEventHeartbeat} s is not less than HttpIdleTimeout (${config.httpIdleTimeout} s): quiet event streams would be closed`);
  }
  if ((config.tlsCertificate === undefined) !== (config.tlsPrivateKey === undefined)) {
    error(config.tlsCertificate === undefined ? 'TLSCertificate' : 'TLSPrivateKey', 'TLSCertificate and TLSPrivateKey are set together');
  }
  const names = new Set<string>();
  for (const key of config.apiKey) {
    if (names.has(key.name)) error('ApiKey', `the name "${key.name}" is used twice`);
    names.add(key.name);
  }
  if ((config.transferHookUrl !== undefined || config.webhookUrl.length > 0) && config.hookSecret === undefined) {
    warn('HookSecret', 'not set: transfer-hook and webhook requests go out unsigned');
  }
  if (config.httpAuth && config.httpAuthPwd === DEFAULT_HTTP_PASSWORD) {
    warn('HttpAuthPwd', 'HttpAuth is on with the default password "admin": the HTTP trigger counts as open');
  }
  if (config.destinationAllow.length === 0 && config.destinationDeny.length === 0 && isTriggerReachableBeyondLoopback(config)) {
    warn(undefined, 'calls can be started from beyond loopback and neither DestinationAllow nor DestinationDeny limits where they go (toll fraud)');
  }
  return problems;
}
