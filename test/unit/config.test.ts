import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/parse-file.js';
import { defaultConfig, SETTINGS } from '../../src/config/settings.js';

const FILE = 'clicktocall.config';
const parse = (text: string) => parseConfigText(text, FILE, { hostName: 'host.example' });

/** Parses one line and expects exactly one error, returned as text. */
function oneError(line: string): string {
  const r = parse(line + '\n');
  assert.equal(r.errors.length, 1, `one error expected for ${line}: ${r.errors.map((e) => e.text).join(' | ')}`);
  return (r.errors[0] as { text: string }).text;
}

function clean(text: string) {
  const r = parse(text);
  assert.deepEqual(r.errors.map((e) => e.text), []);
  assert.deepEqual(r.warnings.map((e) => e.text), []);
  return r.config;
}

test('an empty file gives the replaced system\'s defaults and ours', () => {
  const c = clean('');
  assert.equal(c.udpTcpPort, 5072);
  assert.equal(c.tlsPort, 5073);
  assert.equal(c.tlsDomainName, 'host.example');
  assert.equal(c.keepAlives, true);
  assert.equal(c.logLevel, 'INFO');
  assert.equal(c.logFilename, 'clicktocall.log');
  assert.equal(c.logFileMaxLines, 50000);
  assert.equal(c.xmlRpcPort, 5094);
  assert.equal(c.httpPort, 5095);
  assert.equal(c.httpAuth, false);
  assert.equal(c.httpAuthPwd, 'admin');
  assert.equal(c.ipAddress, undefined);
  assert.equal(c.translationRules.size, 0);
  assert.equal(c.ringTimeout, 60);
  assert.equal(c.maxCallDuration, 14400);
  assert.equal(c.holdOffer, 'c0-inactive');
  assert.equal(c.defaultMode, 'refer');
  assert.equal(c.allowAnonymous, false);
  assert.equal(c.httpAuthBasic, true);
  assert.equal(c.transferPolicy, 'handle');
  assert.equal(c.transferHookTimeout, 3);
  assert.equal(c.maxCallsPerSecondPerClient, 5);
  assert.equal(c.maxConcurrentCallsPerClient, 10);
  assert.equal(c.maxConcurrentCalls, 10000);
  assert.equal(c.databaseFile, 'data/clicktocall.db');
  assert.equal(c.recordRetentionDays, 90);
  assert.equal(c.drainTimeout, 30);
  assert.equal(c.drainHangupTimeout, 2);
  assert.equal(c.traceCalls, 1000);
  assert.equal(c.sipT1, 500);
  assert.equal(c.sipT2, 4000);
  assert.equal(c.sipT4, 5000);
  assert.equal(c.sipMaxMessageSize, 65535);
  assert.equal(c.sipMaxHeaders, 200);
  assert.equal(c.sipUdpSlice, 250);
  assert.equal(c.sipUdpMaxQueued, 4096);
  assert.equal(c.sipMaxConnectionsPerSource, 32);
  assert.equal(c.sipIdleTimeout, 120);
  assert.equal(c.sipReadTimeout, 10);
  assert.equal(c.keepAliveInterval, 30);
  assert.equal(c.dnsTimeout, 4000);
  assert.equal(c.xmlMaxDocumentSize, 65536);
  assert.equal(c.xmlMaxRequestsPerConnection, 100);
  assert.equal(c.xmlMaxConnections, 60);
  assert.equal(c.xmlIdleTimeout, 600);
  assert.equal(c.xmlCloseGrace, 1);
  assert.equal(c.xmlMaxWriteBuffer, 1_048_576);
  assert.equal(c.httpMaxConnections, 1024);
  assert.equal(c.httpMaxBodySize, 65536);
  assert.equal(c.httpMaxHeaderSize, 16384);
  assert.equal(c.httpHeadersTimeout, 10);
  assert.equal(c.httpRequestTimeout, 30);
  assert.equal(c.httpKeepAliveTimeout, 5);
  assert.equal(c.httpIdleTimeout, 60);
  assert.equal(c.httpCloseGrace, 1);
  assert.equal(c.httpMaxRequestsPerSocket, 1000);
  assert.equal(c.httpMaxEventStreams, 100);
  assert.equal(c.httpEventHeartbeat, 15);
  assert.equal(c.httpMaxStreamBuffer, 1_048_576);
  assert.equal(c.httpEventLogSize, 10000);
  assert.equal(c.httpMaxIdempotencyKeys, 10000);
  assert.equal(c.httpNonceLifetime, 300);
  assert.equal(c.httpMaxNonces, 4096);
  assert.equal(c.referNonceLifetime, 300);
  assert.equal(c.webhookMaxQueued, 1000);
  assert.equal(c.webhookMaxAttempts, 5);
  assert.equal(c.webhookRetryDelay, 1);
  assert.equal(c.webhookMaxRetryDelay, 60);
  assert.equal(c.webhookTimeout, 5);
  assert.equal(c.webhookMaxCallbackUrls, 1000);
  assert.equal(c.referMaxNonces, 10000);
  assert.equal(c.referNotifyTimeout, 32);
});

test('the table: unique names, a field per key, defaults that build a Config', () => {
  const names = SETTINGS.flatMap((s) => [s.name, ...s.aliases].map((n) => n.toLowerCase()));
  assert.equal(new Set(names).size, names.length);
  const c = defaultConfig('h');
  for (const s of SETTINGS) assert.ok(s.key in c, s.key);
  assert.equal(Object.keys(c).length, new Set(SETTINGS.map((s) => s.key)).size);
  for (const s of SETTINGS) assert.ok(s.description.length > 10, `${s.name} has a description`);
});

test('names are case-insensitive; blanks around = and the value are trimmed', () => {
  const c = clean('  httpport=6000\nXMLRPCPORT   =   6001   \n\tUdpTcpPort\t=\t6002\t\n');
  assert.equal(c.httpPort, 6000);
  assert.equal(c.xmlRpcPort, 6001);
  assert.equal(c.udpTcpPort, 6002);
});

test('CRLF files: the CR is stripped (HttpAuth = Enable works)', () => {
  const c = clean('HttpAuth = Enable\r\nHttpAuthPwd = s3cret\r\nLogLevel = debug\r\nDestinationAllow = ^sip:\r\n');
  assert.equal(c.httpAuth, true);
  assert.equal(c.httpAuthPwd, 's3cret');
  assert.equal(c.logLevel, 'DEBUG');
});

test('comments: a leading # only; a later # belongs to the value', () => {
  const c = clean('# HttpPort = 1\n   # indented comment\nLogFilename = log#1.txt\n\n');
  assert.equal(c.httpPort, 5095);
  assert.equal(c.logFilename, 'log#1.txt');
});

test('a UTF-8 byte order mark is ignored', () => {
  assert.equal(clean('\ufeffHttpPort = 7000\n').httpPort, 7000);
});

test('values are literal: quotes kept, with a warning', () => {
  const r = parse('LogFilename = "my log.txt"\n');
  assert.equal(r.config.logFilename, '"my log.txt"');
  assert.equal(r.errors.length, 0);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]?.text ?? '', /^clicktocall\.config:1: LogFilename: the quotes are part of the value/);
});

test('booleans: case-insensitive words; anything else is an error', () => {
  for (const word of ['1', 'true', 'ON', 'Enable', 'yes', 'YES']) assert.equal(clean(`KeepAlives = ${word}`).keepAlives, true, word);
  for (const word of ['0', 'false', 'Off', 'DISABLE', 'no']) assert.equal(clean(`KeepAlives = ${word}`).keepAlives, false, word);
  assert.equal(oneError('HttpAuth = maybe'), 'clicktocall.config:1: HttpAuth: "maybe" is not a boolean (1/true/on/enable/yes or 0/false/off/disable/no)');
});

test('ports and integers: type and range errors name file, line, setting', () => {
  assert.equal(oneError('\n\nHttpPort = abc'), 'clicktocall.config:3: HttpPort: "abc" is not a port number (0-65535)');
  assert.equal(oneError('HttpPort = 65536'), 'clicktocall.config:1: HttpPort: "65536" is not a port number (0-65535)');
  assert.equal(oneError('HttpPort = -1'), 'clicktocall.config:1: HttpPort: "-1" is not a port number (0-65535)');
  assert.equal(oneError('RingTimeout = 0'), 'clicktocall.config:1: RingTimeout: "0" is not a whole number 1-3600 (seconds)');
  assert.equal(oneError('SipT1 = 1.5'), 'clicktocall.config:1: SipT1: "1.5" is not a whole number 1-60000 (milliseconds)');
  assert.equal(oneError('MaxConcurrentCalls = 0'), 'clicktocall.config:1: MaxConcurrentCalls: "0" is not a whole number 1-10000000');
  assert.equal(clean('HttpPort = 0').httpPort, 0);
  assert.equal(clean('TraceCalls = 0').traceCalls, 0);
});

/** Settings that were constants once: each read at both ends of its range, refused beyond. */
const RANGED: { name: string; key: keyof ReturnType<typeof clean>; low: number; high: number; bad: string[]; range: string }[] = [
  { name: 'HttpEventHeartbeat', key: 'httpEventHeartbeat', low: 1, high: 3600, bad: ['0', '3601'], range: '1-3600 (seconds)' },
  { name: 'XmlCloseGrace', key: 'xmlCloseGrace', low: 0, high: 60, bad: ['61', '0.5'], range: '0-60 (seconds)' },
  { name: 'WebhookMaxCallbackUrls', key: 'webhookMaxCallbackUrls', low: 1, high: 100000, bad: ['0', '100001'], range: '1-100000' },
  { name: 'DNSTimeout', key: 'dnsTimeout', low: 100, high: 60000, bad: ['99', '60001', '4s'], range: '100-60000 (milliseconds)' },
  { name: 'TransferHookTimeout', key: 'transferHookTimeout', low: 1, high: 30, bad: ['0', '31'], range: '1-30 (seconds)' },
  { name: 'DrainHangupTimeout', key: 'drainHangupTimeout', low: 0, high: 300, bad: ['301', '-1'], range: '0-300 (seconds)' },
  { name: 'HttpCloseGrace', key: 'httpCloseGrace', low: 0, high: 60, bad: ['61', '0.5'], range: '0-60 (seconds)' },
  { name: 'SipUdpSlice', key: 'sipUdpSlice', low: 0, high: 100000, bad: ['100001', '0.5', '-1'], range: '0-100000 (microseconds)' },
  { name: 'SipUdpMaxQueued', key: 'sipUdpMaxQueued', low: 1, high: 1000000, bad: ['0', '1000001'], range: '1-1000000' },
];

test('HttpEventHeartbeat, XmlCloseGrace, WebhookMaxCallbackUrls, DNSTimeout, TransferHookTimeout, DrainHangupTimeout, HttpCloseGrace, SipUdpSlice, SipUdpMaxQueued: both ends of the range are read, values beyond it are errors', () => {
  for (const r of RANGED) {
    // The heartbeat must stay below HttpIdleTimeout (validate.ts): give its top value room.
    const room = r.name === 'HttpEventHeartbeat' ? '\nHttpIdleTimeout = 3601' : '';
    assert.equal(clean(`${r.name} = ${r.low}${room}`)[r.key], r.low, `${r.name} = ${r.low}`);
    assert.equal(clean(`${r.name.toLowerCase()} = ${r.high}${room}`)[r.key], r.high, `${r.name} = ${r.high} (names are case-insensitive)`);
    for (const v of r.bad) {
      assert.equal(oneError(`${r.name} = ${v}`), `clicktocall.config:1: ${r.name}: "${v}" is not a whole number ${r.range}`);
    }
  }
});

test('a required value left blank is an error; a blank optional value means "not set"', () => {
  assert.equal(oneError('HttpPort ='), 'clicktocall.config:1: HttpPort: needs a value');
  const c = clean('IPAddress =\nDNSServers =\nOutboundProxy =\nClickToCallIdentity =\nTLSDomain =\nDestinationAllow =\n');
  assert.equal(c.ipAddress, undefined);
  assert.deepEqual(c.dnsServers, []);
  assert.equal(c.outboundProxy, undefined);
  assert.equal(c.tlsDomainName, 'host.example');
  assert.deepEqual(c.destinationAllow, []);
});

test('enums: any case; wrong value lists the choices', () => {
  assert.equal(clean('DefaultMode = Anchored').defaultMode, 'anchored');
  assert.equal(clean('HoldOffer = none').holdOffer, 'none');
  assert.equal(clean('TransferPolicy = pass-through').transferPolicy, 'passthrough');
  assert.equal(oneError('DefaultMode = bridged'), 'clicktocall.config:1: DefaultMode: "bridged" is not one of refer, anchored, ood-refer');
  assert.equal(oneError('LogLevel = LOUD'), 'clicktocall.config:1: LogLevel: "LOUD" is not one of NONE, CRIT, ERR, WARNING, INFO, DEBUG, STACK');
});

test('IP addresses and DNS server lists', () => {
  assert.equal(clean('IPAddress = ::1').ipAddress, '::1');
  assert.equal(oneError('IPAddress = 300.1.1.1'), 'clicktocall.config:1: IPAddress: "300.1.1.1" is not an IP address');
  assert.deepEqual(clean('DNSServers = 8.8.8.8, 1.1.1.1;9.9.9.9').dnsServers, ['8.8.8.8', '1.1.1.1', '9.9.9.9']);
  assert.equal(oneError('DNSServers = 8.8.8.8, dns.example'), 'clicktocall.config:1: DNSServers: DNS server "dns.example": not an IP address');
  // A resolver on a port of its own (a local cache, a split-horizon server): what the resolver takes.
  assert.deepEqual(clean('DNSServers = 127.0.0.1:5353, [::1]:5353 ::1').dnsServers, ['127.0.0.1:5353', '[::1]:5353', '::1']);
  assert.equal(oneError('DNSServers = 127.0.0.1:99999'), 'clicktocall.config:1: DNSServers: DNS server "127.0.0.1:99999": bad port');
});

test('URI settings: sip: URIs and name-addrs; without a scheme, retried with sip:', () => {
  assert.equal(clean('ClickToCallIdentity = sip:c2c@example.com').clickToCallIdentity, 'sip:c2c@example.com');
  assert.equal(clean('ClickToCallIdentity = c2c@127.0.0.1:5072').clickToCallIdentity, 'sip:c2c@127.0.0.1:5072');
  assert.equal(clean('OutboundProxy = proxy.example.com:5060;transport=tcp').outboundProxy, 'sip:proxy.example.com:5060;transport=tcp');
  assert.equal(clean('OutboundProxy = [::1]:5060').outboundProxy, 'sip:[::1]:5060');
  assert.equal(clean('ClickToCallIdentity = "Click" <sip:c2c@example.com>').clickToCallIdentity, '"Click" <sip:c2c@example.com>');
  assert.equal(clean('ClickToCallIdentity = <c2c@example.com>').clickToCallIdentity, '<sip:c2c@example.com>');
  assert.equal(oneError('OutboundProxy = http://proxy'), 'clicktocall.config:1: OutboundProxy: "http://proxy" is not a SIP URI (sip:user@host[:port])');
  assert.equal(oneError('OutboundProxy = sip:bad host'), 'clicktocall.config:1: OutboundProxy: "sip:bad host" is not a SIP URI (sip:user@host[:port])');
});

test('URL settings', () => {
  assert.equal(clean('TransferHookUrl = https://app.example/hook\nHookSecret = k').transferHookUrl, 'https://app.example/hook');
  assert.equal(oneError('TransferHookUrl = ftp://x'), 'clicktocall.config:1: TransferHookUrl: "ftp://x" is not an http: or https: URL');
  assert.equal(oneError('WebhookUrl = not a url'), 'clicktocall.config:1: WebhookUrl: "not a url" is not a URL');
});

test('repeated lists accumulate in order', () => {
  const c = clean([
    'WebhookUrl = http://127.0.0.1:9000/a', 'WebhookUrl = http://127.0.0.1:9000/b', 'HookSecret = s',
    'XmlAllowFrom = 10.0.0.0/8, 192.168.1.7', 'XmlAllowFrom = 2001:db8::/32',
    'DestinationAllow = ^sip:1', 'DestinationAllow = ^sip:2',
  ].join('\n'));
  assert.deepEqual(c.webhookUrl, ['http://127.0.0.1:9000/a', 'http://127.0.0.1:9000/b']);
  assert.deepEqual(c.xmlAllowFrom.map((b) => b.text), ['10.0.0.0/8', '192.168.1.7/32', '2001:db8::/32']);
  assert.deepEqual(c.destinationAllow.map((p) => p.source), ['^sip:1', '^sip:2']);
});

test('CIDR list errors', () => {
  assert.equal(oneError('ReferAllowFrom = 10.0.0.0/33'), 'clicktocall.config:1: ReferAllowFrom: "10.0.0.0/33": the prefix length must be 0-32');
  assert.equal(oneError('XmlAllowFrom = example.com'), 'clicktocall.config:1: XmlAllowFrom: "example.com" is not an IP address or CIDR block');
});

test('| field lists: ApiKey, ReferUser, SipCredential', () => {
  const hash = 'AB'.repeat(32);
  const c = clean(`ApiKey = crm|${hash}|20\nApiKey = web|${'0'.repeat(64)}\nReferUser = pbx|secret\nReferUser = pbx2| pw\nSipCredential = example.com|c2c|pw\nSipCredential = r|u|p|proxy.example.com:5060\nDestinationDeny = ^sip:900`);
  assert.deepEqual(c.apiKey, [{ name: 'crm', sha256: 'ab'.repeat(32), callsPerSecond: 20 }, { name: 'web', sha256: '0'.repeat(64) }]);
  assert.deepEqual(c.sipCredential, [
    { realm: 'example.com', user: 'c2c', password: 'pw' },
    { realm: 'r', user: 'u', password: 'p', host: 'proxy.example.com:5060' },
  ]);
  // Passwords are literal (blanks kept); other fields are trimmed.
  assert.deepEqual(c.referUser, [{ user: 'pbx', password: 'secret' }, { user: 'pbx2', password: ' pw' }]);
});

test('| field errors never echo the secret value', () => {
  const e1 = oneError('ApiKey = crm');
  assert.equal(e1, 'clicktocall.config:1: ApiKey: the value is not of the form name|sha256hex[|callsPerSecond]');
  assert.equal(oneError('ApiKey = crm|1234'), 'clicktocall.config:1: ApiKey: the hash of key "crm" is not 64 hexadecimal digits (a SHA-256; `clicktocall hash-key` prints one)');
  assert.match(oneError(`ApiKey = crm|${'a'.repeat(64)}|fast`), /callsPerSecond of key "crm" must be a whole number/);
  const e2 = oneError('SipCredential = myrealm|bob');
  assert.ok(!e2.includes('bob'), e2);
  assert.equal(e2, 'clicktocall.config:1: SipCredential: the value is not of the form realm|user|password[|host]');
  assert.match(oneError('ReferUser = alice|pw|extra'), /ReferUser: the value is not of the form user\|password$/);
  assert.match(oneError('SipCredential = realm|user|pw|bad host'), /the host "bad host" is not a host name/);
  assert.match(oneError('ReferUser = |pw'), /the field user is empty/);
});

test('TLSDomain is accepted for TLSDomainName', () => {
  assert.equal(clean('TLSDomain = sip.example.com').tlsDomainName, 'sip.example.com');
  assert.equal(clean('TLSDomainName = sip2.example.com').tlsDomainName, 'sip2.example.com');
});

test('an unknown setting is a warning with file and line, not an error', () => {
  const r = parse('HttpPort = 6000\nColour = blue\n');
  assert.equal(r.errors.length, 0);
  assert.deepEqual(r.warnings.map((w) => w.text), ['clicktocall.config:2: unknown setting "Colour" (ignored)']);
  assert.equal(r.config.httpPort, 6000);
});

test('a line without = is an error', () => {
  assert.equal(oneError('HttpPort 6000'), 'clicktocall.config:1: expected "Name = Value", found "HttpPort 6000"');
  assert.equal(oneError('Http Port = 6000'), 'clicktocall.config:1: expected "Name = Value": "Http Port" is not one name');
  assert.equal(oneError('HttpPort'), 'clicktocall.config:1: expected "Name = Value", found "HttpPort"');
});

test('a setting given twice: the later wins, with a warning', () => {
  const r = parse('HttpPort = 6000\nHttpPort = 6001\n');
  assert.equal(r.config.httpPort, 6001);
  assert.deepEqual(r.warnings.map((w) => w.text), ['clicktocall.config:2: HttpPort: already set at line 1; this later value wins']);
});

test('every error is collected, not just the first', () => {
  const r = parse('HttpPort = x\nXmlRpcPort = y\nHttpAuth = z\nTranslationOutput = sip:a@b\n');
  assert.deepEqual(r.errors.map((e) => e.line), [1, 2, 3, 4]);
});

test('translation rules: ordered groups with an optional TranslationMode', () => {
  const c = clean([
    'TranslationPattern = ^(sips?:.*)$',
    'TranslationOutput = $1',
    '# a comment between rules',
    'TranslationPattern = ^([0-9]+)$',
    'TranslationOutput = sip:$1@127.0.0.1:5060',
    'TranslationMode = Anchored',
    'TranslationPattern = (?i)^([a-z]+)$',
    'TranslationOutput = sip:$1@example.com',
  ].join('\r\n'));
  const t = c.translationRules;
  assert.equal(t.size, 3);
  assert.deepEqual(t.translate('sip:x@y'), { uri: 'sip:x@y' });
  assert.deepEqual(t.translate('1001'), { uri: 'sip:1001@127.0.0.1:5060', mode: 'anchored' });
  assert.deepEqual(t.translate('Alice'), { uri: 'sip:Alice@example.com' });
  assert.equal(t.translate('a b'), undefined);
  assert.deepEqual(t.sources.map((s) => s.line), [1, 4, 7]);
});

test('translation values are literal: $ and quotes kept, no trimming inside', () => {
  const r = parse('TranslationPattern = ^x$\nTranslationOutput = sip:a b@h\n');
  assert.equal(r.config.translationRules.translate('x')?.uri, 'sip:a b@h');
});

test('unpaired translation lines are errors', () => {
  assert.equal(oneError('TranslationOutput = sip:a@b'), 'clicktocall.config:1: TranslationOutput: has no TranslationPattern before it (they come in pairs)');
  assert.equal(oneError('TranslationPattern = ^1'), 'clicktocall.config:1: TranslationPattern: has no TranslationOutput after it (they come in pairs)');
  const r = parse('TranslationPattern = ^1\nTranslationPattern = ^2\nTranslationOutput = sip:two@h\n');
  assert.deepEqual(r.errors.map((e) => e.text), ['clicktocall.config:1: TranslationPattern: has no TranslationOutput after it (they come in pairs)']);
  assert.equal(r.config.translationRules.translate('2')?.uri, 'sip:two@h');
  assert.equal(oneError('TranslationPattern = ^1\nTranslationMode = refer\nTranslationOutput = x'), 'clicktocall.config:2: TranslationMode: must come right after a TranslationOutput line');
  assert.equal(oneError('TranslationPattern = ^1\nTranslationOutput = x\nTranslationMode = bridge'), 'clicktocall.config:3: TranslationMode: "bridge" is not one of refer, anchored, ood-refer');
  assert.equal(oneError('TranslationPattern =\nTranslationOutput = x'), 'clicktocall.config:1: TranslationPattern: needs a value');
});

test('a bad translation pattern is an error naming file and line; \\- falls back with a warning', () => {
  assert.match(oneError('# c\nTranslationPattern = ([0-9]\nTranslationOutput = x'), /^clicktocall\.config:2: TranslationPattern: "\(\[0-9\]" is not a valid pattern/);
  const r = parse('TranslationPattern = ^([0-9]+)\\-([0-9]+)$\nTranslationOutput = sip:$1$2@h\n');
  assert.equal(r.errors.length, 0);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]?.text ?? '', /^clicktocall\.config:1: TranslationPattern: .*compiled without it/);
  assert.equal(r.config.translationRules.translate('12-34')?.uri, 'sip:1234@h');
});

test('toll-fraud patterns use the translation dialect', () => {
  const r = parse('DestinationDeny = (?i)^sip:900\nInitiatorDeny = 1\\-900\n');
  assert.equal(r.errors.length, 0);
  assert.equal(r.config.destinationDeny[0]?.regex.test('SIP:900123@h'), true);
  assert.equal(r.config.initiatorDeny[0]?.regex.test('sip:1-900@h'), true);
  assert.deepEqual(r.warnings.map((w) => w.line), [2]);
  assert.match(oneError('DestinationAllow = (abc'), /^clicktocall\.config:1: DestinationAllow: "\(abc" is not a valid pattern/);
});

test('every setting with a wrong value: an error naming the file, the line and the setting', () => {
  /** Values that must be refused, by type; free text (string, path, template) has none. */
  const wrong = (s: (typeof SETTINGS)[number]): string[] => {
    const t = s.type;
    switch (t.kind) {
      case 'int': return ['abc', String(t.min - 1), String(t.max + 1), '1.5'];
      case 'bool': return ['maybe', '2'];
      case 'enum': return ['no-such-value'];
      case 'ip': return ['not-an-ip', '300.1.1.1'];
      case 'dns-server-list': return ['10.0.0.1, nonsense', '10.0.0.1:0', '[::1]:99999', '[::1'];
      case 'cidr-list': return ['10.0.0.0/99', 'host.example'];
      case 'uri': return ['sip:bad uri with spaces@'];
      case 'url': return ['ftp://x.example/', 'not a url'];
      case 'fields': return ['only-one-field'.repeat(t.required > 1 ? 1 : 0) || '|'];
      case 'regex': return ['(unclosed'];
      case 'string': case 'path': case 'template': return [];
    }
  };
  let checked = 0;
  for (const s of SETTINGS) {
    for (const value of wrong(s)) {
      // Line 3, after a comment and a blank line; TranslationOutput needs its pattern first.
      const before = s.name === 'TranslationOutput' || s.name === 'TranslationMode' ? 'TranslationPattern = ^1' : '# comment';
      const r = parse(`${before}\n\n${s.name} = ${value}\n`);
      const problem = r.errors.find((e) => e.line === 3);
      assert.ok(problem, `${s.name} = ${value}: no error on line 3 (${r.errors.map((e) => e.text).join(' | ') || 'accepted'})`);
      assert.equal(problem.file, FILE, `${s.name}: file named`);
      assert.equal(problem.setting, s.name, `${s.name}: setting named`);
      assert.ok(problem.text.startsWith(`${FILE}:3: ${s.name}`), `${s.name} = ${value}: "${problem.text}"`);
      checked++;
    }
  }
  assert.ok(checked >= 80, `${checked} wrong values checked`);
});
