import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposureNotices, isLegacyHttpOpen, isTriggerReachableBeyondLoopback, isXmlOpen, listenAddressesFor } from '../../src/config/exposure.js';
import { parseConfigText } from '../../src/config/parse-file.js';
import { tlsFilesFor } from '../../src/config/config.js';

const parse = (text: string) => parseConfigText(text, 'clicktocall.config', { hostName: 'h.example' });
const config = (text: string) => {
  const r = parse(text);
  assert.deepEqual(r.errors.map((e) => e.text), []);
  return r.config;
};

const LOOPBACK = ['127.0.0.1', '::1'];
const ALL = ['0.0.0.0', '::'];

test('defaults: both legacy triggers open, listening on loopback only', () => {
  const c = config('');
  assert.equal(isLegacyHttpOpen(c), true);
  assert.equal(isXmlOpen(c), true);
  assert.deepEqual(listenAddressesFor(c, 'http'), LOOPBACK);
  assert.deepEqual(listenAddressesFor(c, 'xml'), LOOPBACK);
  assert.equal(isTriggerReachableBeyondLoopback(c), false);
});

test('AllowAnonymous = true: the one line a migrated config needs', () => {
  const c = config('AllowAnonymous = true\nDestinationAllow = ^sip:');
  assert.deepEqual(listenAddressesFor(c, 'http'), ALL);
  assert.deepEqual(listenAddressesFor(c, 'xml'), ALL);
  assert.deepEqual(exposureNotices(c), []);
});

test('HttpAuth with a password of its own protects HTTP; with the default "admin" it counts as open', () => {
  const own = config('HttpAuth = 1\nHttpAuthPwd = n0t-admin\nDestinationAllow = ^sip:');
  assert.equal(isLegacyHttpOpen(own), false);
  assert.deepEqual(listenAddressesFor(own, 'http'), ALL);
  assert.deepEqual(listenAddressesFor(own, 'xml'), LOOPBACK);
  const admin = parse('HttpAuth = 1\n');
  assert.equal(isLegacyHttpOpen(admin.config), true);
  assert.deepEqual(listenAddressesFor(admin.config, 'http'), LOOPBACK);
  assert.deepEqual(admin.warnings.map((w) => w.text), [
    'clicktocall.config: HttpAuthPwd: HttpAuth is on with the default password "admin": the HTTP trigger counts as open',
  ]);
});

test('XmlSecret or XmlAllowFrom protects XML', () => {
  const secret = config('XmlSecret = s\nDestinationAllow = ^sip:');
  assert.equal(isXmlOpen(secret), false);
  assert.deepEqual(listenAddressesFor(secret, 'xml'), ALL);
  const acl = config('XmlAllowFrom = 10.1.0.0/16\nDestinationAllow = ^sip:');
  assert.equal(isXmlOpen(acl), false);
  assert.deepEqual(listenAddressesFor(acl, 'xml'), ALL);
  assert.deepEqual(listenAddressesFor(acl, 'http'), LOOPBACK);
});

test('port 0: no listener', () => {
  const c = config('HttpPort = 0\nXmlRpcPort = 0\nAllowAnonymous = 1\n');
  assert.deepEqual(listenAddressesFor(c, 'http'), []);
  assert.deepEqual(listenAddressesFor(c, 'xml'), []);
});

test('reachable beyond loopback with no Destination list: a WARNING', () => {
  const r = parse('AllowAnonymous = true\n');
  assert.deepEqual(r.warnings.map((w) => w.text), [
    'clicktocall.config: calls can be started from beyond loopback and neither DestinationAllow nor DestinationDeny limits where they go (toll fraud)',
  ]);
  assert.equal(parse('AllowAnonymous = true\nDestinationDeny = ^sip:900').warnings.length, 0);
  // Out-of-dialog REFER allowed from the network counts; from loopback or with SIP on loopback it does not.
  assert.equal(parse('ReferAllowFrom = 10.0.0.0/8').warnings.length, 1);
  assert.equal(parse('ReferUser = pbx|pw').warnings.length, 1);
  assert.equal(parse('ReferAllowFrom = 127.0.0.1, ::1').warnings.length, 0);
  assert.equal(parse('ReferUser = pbx|pw\nIPAddress = 127.0.0.1').warnings.length, 0);
});

test('exposure notices say what to add', () => {
  const notices = exposureNotices(config(''));
  assert.equal(notices.length, 2);
  assert.match(notices[0] ?? '', /^HTTP port 5095 listens on loopback only because HttpAuth is off; .*`AllowAnonymous = true`/);
  assert.match(notices[1] ?? '', /^XML port 5094 listens on loopback only/);
  assert.deepEqual(exposureNotices(config('HttpPort = 0\nXmlSecret = s\nDestinationAllow = ^sip:')), []);
});

test('cross-setting errors', () => {
  const errors = (text: string) => parse(text).errors.map((e) => e.text);
  assert.deepEqual(errors('SipT1 = 5000\nSipT2 = 4000'), ['clicktocall.config: SipT2: 4000 ms is less than SipT1 (5000 ms)']);
  assert.deepEqual(errors('HttpHeadersTimeout = 60\nHttpRequestTimeout = 30'), ['clicktocall.config: HttpHeadersTimeout: 60 s is more than HttpRequestTimeout (30 s)']);
  assert.deepEqual(errors('WebhookRetryDelay = 120\nWebhookMaxRetryDelay = 60'), ['clicktocall.config: WebhookRetryDelay: 120 s is more than WebhookMaxRetryDelay (60 s)']);
  const idle = errors('HttpIdleTimeout = 15'); // event streams' heartbeat is 15 s: the range starts above it
  assert.equal(idle.length, 1);
  assert.match(idle[0]!, /HttpIdleTimeout/);
  // The heartbeat is a quiet stream's only traffic: it must come before the idle timeout.
  assert.deepEqual(errors('HttpEventHeartbeat = 60'), ['clicktocall.config: HttpEventHeartbeat: 60 s is not less than HttpIdleTimeout (60 s): quiet event streams would be closed']);
  assert.deepEqual(errors('HttpIdleTimeout = 20\nHttpEventHeartbeat = 30'), ['clicktocall.config: HttpEventHeartbeat: 30 s is not less than HttpIdleTimeout (20 s): quiet event streams would be closed']);
  assert.deepEqual(errors('HttpEventHeartbeat = 59'), []);
  assert.deepEqual(errors('HttpEventHeartbeat = 100\nHttpIdleTimeout = 101'), []);
  assert.equal(errors('TransferPolicy = hook').length, 1, 'hook is not a policy: TransferHookUrl asks the hook');
  assert.deepEqual(errors('TLSCertificate = c.pem'), ['clicktocall.config: TLSPrivateKey: TLSCertificate and TLSPrivateKey are set together']);
  const h = 'a'.repeat(64);
  assert.deepEqual(errors(`ApiKey = k|${h}\nApiKey = k|${h}`), ['clicktocall.config: ApiKey: the name "k" is used twice']);
  assert.deepEqual(parse('WebhookUrl = http://127.0.0.1:1/x').warnings.map((w) => w.setting), ['HookSecret']);
});

test('TLS files: reSIProcate names by default, explicit paths when set', () => {
  assert.deepEqual(tlsFilesFor(config('TLSDomain = sip.example.com')), {
    certificate: 'domain_cert_sip.example.com.pem', privateKey: 'domain_key_sip.example.com.pem', explicit: false,
  });
  assert.deepEqual(tlsFilesFor(config('')).certificate, 'domain_cert_h.example.pem');
  assert.deepEqual(tlsFilesFor(config('TLSCertificate = /etc/c.pem\nTLSPrivateKey = /etc/k.pem')), {
    certificate: '/etc/c.pem', privateKey: '/etc/k.pem', explicit: true,
  });
});
