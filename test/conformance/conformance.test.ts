// SIP parser conformance against the torture-test messages of RFC 4475 and RFC 5118.
// One test per message file; what each must parse to (or how it must be refused) comes from
// test/conformance/manifest.json, whose entries quote the RFC text they encode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  parseMessage, checkRequestUriScheme, SipParseError, type SipMessage, type SipRequest,
} from '../../src/sip/message/index.js';
import {
  RFC4475_FILES, decodeRfc4475, decodeRfc5118, extractBase64Block, untar,
} from '../../scripts/extract-torture.js';

type Expected = unknown;

interface ManifestEntry {
  file: string;
  rfc: 4475 | 5118;
  section: string;
  title: string;
  layer: 'parser' | 'transaction' | 'application';
  expect: 'accept' | 'reject';
  valid: boolean;
  status?: number;
  alsoAcceptable?: number[];
  answerable?: boolean;
  reasonIncludes?: string;
  rejectedBy?: string;
  check?: string;
  liberalAllowed?: boolean;
  serializedExcludes?: string;
  rfcSays: string;
  fields?: Record<string, Expected>;
}

const here = dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(join(here, 'manifest.json'), 'utf8')) as { messages: ManifestEntry[] };
const corpusDirs = ['rfc4475', 'rfc5118'];
const datFiles = corpusDirs.flatMap((d) =>
  readdirSync(join(here, d)).filter((n) => n.endsWith('.dat')).map((n) => `${d}/${n}`),
);

// ── reading fields through the parser API ──────────────────────────────────────────

/** Follows a manifest path ("vias/0/host", "header:Subject", "contacts/0/parsedUri/params/lr"). */
function resolvePath(msg: SipMessage, path: string): unknown {
  let value: unknown = msg;
  for (const seg of path.split('/')) {
    if (value === msg && seg.startsWith('header:')) value = msg.get(seg.slice(7));
    else if (value === msg && seg.startsWith('headers:')) value = msg.getAll(seg.slice(8));
    else if (value === msg && seg === 'bodyText') value = msg.body.toString('utf8');
    else if (value instanceof Map) {
      if (seg === '$size') value = value.size;
      else value = value.has(seg) ? value.get(seg) : value.get(seg.toLowerCase());
    } else if (value !== null && (typeof value === 'object' || typeof value === 'string')) {
      value = (value as Record<string, unknown>)[seg];
    } else {
      throw new Error(`cannot read "${seg}" of ${String(value)}`);
    }
  }
  return value;
}

/** Builds the strings that RFC 4475's <repeat> notation describes. */
function build(e: Expected): unknown {
  if (e && typeof e === 'object' && !Array.isArray(e)) {
    const o = e as Record<string, unknown>;
    if ('$repeat' in o) {
      const [s, n] = o.$repeat as [string, number];
      return s.repeat(n);
    }
    if ('$concat' in o) return (o.$concat as Expected[]).map((p) => build(p)).join('');
  }
  if (Array.isArray(e)) return e.map(build);
  return e;
}

/** Returns undefined when `actual` satisfies `expected`, else a description of the mismatch. */
function mismatch(actual: unknown, expected: Expected): string | undefined {
  const show = (v: unknown): string => (typeof v === 'string' && v.length > 120 ? `${JSON.stringify(v.slice(0, 120))}…(${v.length})` : JSON.stringify(v) ?? String(v));
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    const o = expected as Record<string, unknown>;
    if ('$undefined' in o) return actual === undefined ? undefined : `expected undefined, got ${show(actual)}`;
    if ('$oneOf' in o) {
      const options = (o.$oneOf as Expected[]).map(build);
      return options.some((x) => isDeepStrictEqual(actual, x)) ? undefined : `expected one of ${show(options)}, got ${show(actual)}`;
    }
    if ('$hex' in o) {
      const hex = typeof actual === 'string' ? Buffer.from(actual, 'utf8').toString('hex') : undefined;
      return hex === o.$hex ? undefined : `expected bytes ${String(o.$hex)}, got ${hex ?? show(actual)}`;
    }
    for (const op of ['$includes', '$startsWith', '$endsWith'] as const) {
      if (op in o) {
        const want = o[op] as string;
        const ok = typeof actual === 'string' && (op === '$includes' ? actual.includes(want) : op === '$startsWith' ? actual.startsWith(want) : actual.endsWith(want));
        return ok ? undefined : `expected ${op.slice(1)} ${show(want)}, got ${show(actual)}`;
      }
    }
  }
  const want = build(expected);
  return isDeepStrictEqual(actual, want) ? undefined : `expected ${show(want)}, got ${show(actual)}`;
}

function checkFields(msg: SipMessage, fields: Record<string, Expected>): string[] {
  const problems: string[] = [];
  for (const [path, expected] of Object.entries(fields)) {
    let actual: unknown;
    try {
      actual = resolvePath(msg, path);
    } catch (err) {
      problems.push(`${path}: threw ${err instanceof SipParseError ? `SipParseError(${err.status}) "${err.reason}"` : String(err)}`);
      continue;
    }
    const m = mismatch(actual, expected);
    if (m) problems.push(`${path}: ${m}`);
  }
  return problems;
}

// ── the accessor-level conditions a layer above the parser reacts to ───────────────

const KNOWN_METHODS = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY',
  'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);
const SUPPORTED_EXTENSIONS = new Set(['100rel', 'replaces', 'timer', 'norefersub', 'path', 'outbound']);
const ACCEPTED_BODY_TYPES = new Set(['application/sdp', 'message/sipfrag', 'multipart/mixed']);

/** Each returns true when the message has the property the RFC's higher-layer answer is about. */
const CHECKS: Record<string, (m: SipMessage) => boolean> = {
  // RFC 3261 §8.2.1: a UAS answers an unknown method with 501.
  unknownMethod: (m) => m.isRequest && !KNOWN_METHODS.has((m as SipRequest).method),
  // RFC 3261 §8.2.2.1: 416 for a Request-URI scheme the UAS does not handle.
  unsupportedUriScheme: (m) => {
    try {
      checkRequestUriScheme(m as SipRequest);
      return false;
    } catch (err) {
      return err instanceof SipParseError && err.status === 416;
    }
  },
  // RFC 3261 §10.3 step 3 (via RFC 4475 §3.3.4): the To of a REGISTER must be a SIP/SIPS AOR.
  registerToNotSip: (m) => m.isRequest && (m as SipRequest).method === 'REGISTER' && !m.to.parsedUri.isSip,
  // RFC 3261 §8.2.2.3: 420 listing the Require option-tags we do not support.
  unsupportedRequire: (m) => m.require.some((tag) => !SUPPORTED_EXTENSIONS.has(tag)),
  // RFC 3261 §8.2.3: 415 for a body type we do not understand.
  unsupportedContentType: (m) => m.body.length > 0 && !ACCEPTED_BODY_TYPES.has(m.contentType ?? ''),
  // RFC 4475 §3.3.7: an endpoint that is not a registrar answers REGISTER with 405.
  registerToNonRegistrar: (m) => m.isRequest && (m as SipRequest).method === 'REGISTER',
  // RFC 4475 §3.3.10: a response whose Via points at the broadcast address is dropped.
  broadcastVia: (m) => m.vias.some((v) => v.host === '255.255.255.255'),
  // RFC 3261 §16.3 item 2: a proxy answers Max-Forwards 0 with 483.
  maxForwardsZero: (m) => m.maxForwards === 0,
  // RFC 3261 §8.2.3 / §21.4.7: 406 when Accept rules out every body we could send.
  acceptExcludesSdp: (m) => {
    const accept = m.getAll('accept');
    return accept.length > 0 && !accept.some((a) => a.split(';', 1)[0]!.trim().toLowerCase() === 'application/sdp');
  },
};

// ── tests ──────────────────────────────────────────────────────────────────────────

test('every .dat file has one manifest entry and every entry a file', () => {
  const listed = manifest.messages.map((e) => e.file);
  assert.equal(new Set(listed).size, listed.length, 'duplicate manifest entries');
  assert.deepEqual([...listed].sort(), [...datFiles].sort());
  assert.equal(datFiles.filter((f) => f.startsWith('rfc4475/')).length, 50); // 49 in §3 + test.dat
  assert.equal(datFiles.filter((f) => f.startsWith('rfc5118/')).length, 12); // §4.1-§4.10, two pairs
});

test('manifest entries are well formed', () => {
  for (const e of manifest.messages) {
    assert.ok(['parser', 'transaction', 'application'].includes(e.layer), e.file);
    assert.ok(['accept', 'reject'].includes(e.expect), e.file);
    assert.ok(e.rfcSays.length > 0, e.file);
    if (e.layer !== 'parser' || e.expect === 'accept') assert.ok(e.fields, `${e.file}: parsed messages need fields`);
    if (e.check) assert.ok(CHECKS[e.check], `${e.file}: unknown check ${e.check}`);
    if (e.layer !== 'parser' && e.expect === 'reject') assert.ok(e.check, `${e.file}: higher-layer reject needs a check`);
  }
});

test('the committed corpus is what the RFC sources decode to', () => {
  const source4475 = readFileSync(join(here, 'source', 'rfc4475-appendix-a.txt'), 'latin1');
  const decoded = decodeRfc4475(source4475);
  assert.deepEqual(decoded.map((f) => f.name), [...RFC4475_FILES].sort((a, b) => a.localeCompare(b)));
  for (const f of decoded) assert.ok(readFileSync(join(here, 'rfc4475', f.name)).equals(f.data), `rfc4475/${f.name}`);
  const rfc5118 = decodeRfc5118(readFileSync(join(here, 'source', 'rfc5118-messages.txt'), 'utf8'));
  assert.equal(rfc5118.files.length, 12);
  for (const f of rfc5118.files) assert.ok(readFileSync(join(here, 'rfc5118', f.name)).equals(f.data), `rfc5118/${f.name}`);
});

test('the archive extractor strips RFC page furniture and refuses anything else', () => {
  const text = [
    '   -- BEGIN MESSAGE ARCHIVE --',
    '   SGVsbG8s',
    '',
    'Sparks, et al.               Informational                     [Page 48]',
    '\f',
    'RFC 4475               SIP Torture Test Messages                May 2006',
    '',
    '   IHdvcmxk',
    '   -- END MESSAGE ARCHIVE --',
  ].join('\n');
  assert.equal(Buffer.from(extractBase64Block(text), 'base64').toString(), 'Hello, world');
  assert.throws(() => extractBase64Block(text.replace('IHdvcmxk', 'IHdv cmxk')), /unexpected text/);
  assert.throws(() => extractBase64Block('no markers'), /markers/);
  // A one-file tar built by hand: header, data padded to 512, two zero blocks.
  const header = Buffer.alloc(512);
  header.write('a.dat', 0, 'latin1');
  header.write('0000644\0', 100, 'latin1');
  header.write('00000000005\0', 124, 'latin1');
  header[156] = 0x30;
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const body = Buffer.alloc(512);
  body.write('hello');
  const tar = Buffer.concat([header, body, Buffer.alloc(1024)]);
  assert.deepEqual(untar(tar).map((f) => [f.name, f.data.toString()]), [['a.dat', 'hello']]);
  header[0] = 0x62; // corrupt without fixing the checksum
  assert.throws(() => untar(Buffer.concat([header, body, Buffer.alloc(1024)])), /checksum/);
});

test('the higher-layer checks are false for an ordinary request (wsinv)', () => {
  const wsinv = parseMessage(readFileSync(join(here, 'rfc4475', 'wsinv.dat')));
  for (const [name, check] of Object.entries(CHECKS)) assert.equal(check(wsinv), false, name);
});

for (const entry of manifest.messages) {
  const label = `RFC ${entry.rfc} §${entry.section} ${entry.file.replace(/^.*\//, '')}: ${entry.title}`;
  test(label, () => {
    const data = readFileSync(join(here, entry.file));
    let msg: SipMessage | undefined;
    let error: unknown;
    try {
      msg = parseMessage(data);
    } catch (err) {
      error = err;
    }
    // Bad input never escapes as anything but a SipParseError.
    if (error !== undefined && !(error instanceof SipParseError)) throw error;

    const parserRejects = entry.layer === 'parser' && entry.expect === 'reject';
    if (parserRejects) {
      let refusal = error as SipParseError | undefined;
      if (!refusal && msg && entry.rejectedBy) {
        // The defect sits in a header the parser reads lazily: reading it must fail.
        try {
          resolvePath(msg, entry.rejectedBy);
        } catch (err) {
          if (!(err instanceof SipParseError)) throw err;
          refusal = err;
        }
      }
      assert.ok(refusal, `RFC ${entry.rfc} §${entry.section} says reject ("${entry.rfcSays}") but it parsed` +
        (entry.rejectedBy ? ` and ${entry.rejectedBy} read without error` : ''));
      if (entry.status !== undefined) {
        const allowed = [entry.status, ...(entry.alsoAcceptable ?? [])];
        assert.ok(allowed.includes(refusal.status), `status ${refusal.status} ("${refusal.reason}"), expected ${allowed.join(' or ')}`);
      }
      if (entry.answerable !== undefined) assert.equal(refusal.answerable, entry.answerable, `answerable ("${refusal.reason}")`);
      if (entry.reasonIncludes) assert.match(refusal.reason, new RegExp(entry.reasonIncludes, 'i'));
      assert.ok(refusal.reason.length > 0 && !/[\r\n]/.test(refusal.reason), 'reason must fit a status line');
      return;
    }

    assert.ok(msg, `RFC ${entry.rfc} §${entry.section} says the parser must accept it; got ${error instanceof SipParseError ? `SipParseError(${error.status}) "${error.reason}"` : String(error)}`);
    const problems = checkFields(msg, entry.fields ?? {});
    assert.deepEqual(problems, [], `fields of ${entry.file}`);

    if (entry.check) {
      // The layer above the parser sees the condition the RFC's answer is about.
      assert.equal(CHECKS[entry.check]!(msg), true, `check ${entry.check}`);
    }

    // What we would forward parses back to the same transaction identity (§16.6, §17.2.3).
    const again = parseMessage(msg.serialize());
    assert.equal(again.callId, msg.callId);
    assert.deepEqual(again.cseq, msg.cseq);
    assert.deepEqual(again.vias.map((v) => [v.host, v.port, v.branch]), msg.vias.map((v) => [v.host, v.port, v.branch]));
    assert.ok(again.body.equals(msg.body), 'body survives serialization');
    if (entry.serializedExcludes) {
      assert.ok(!msg.serialize().toString('latin1').includes(entry.serializedExcludes), 'trailing datagram octets must not be forwarded');
    }
  });
}
