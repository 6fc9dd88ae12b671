/**
 * Structured SIP generation with fast-check: messages assembled from RFC 3261 §25 grammar pieces
 * (request/status line, Via with parameter lists, name-addr with quoted display names, compact
 * header forms, folded lines, bodies with right or wrong Content-Length), then optionally given
 * one byte-level mutation. Some requests carry exactly one defect the parser can still answer
 * (§8.2.6.1: Via/From/To/Call-ID/CSeq readable): those must get a 400.
 */
import fc from 'fast-check';
import { mutate, rng } from './sip-mutations.js';

export interface GeneratedSip {
  data: Buffer;
  /** The status an answerable malformed request must receive; undefined: anything or nothing. */
  expect?: number;
  /** The Call-ID written, to match the answer. */
  callId: string;
  /** Content-Length right and no byte mutation: a stream framer stays in step after it. */
  framed: boolean;
}

const METHODS = ['INVITE', 'OPTIONS', 'BYE', 'CANCEL', 'ACK', 'REFER', 'NOTIFY', 'REGISTER', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'MESSAGE', 'FOO-BAR'];
// Methods the stack answers itself or through the test handler (not ACK: never answered).
const ANSWERED = ['INVITE', 'OPTIONS', 'BYE', 'REFER', 'NOTIFY', 'REGISTER', 'INFO', 'MESSAGE'];

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const user = fc.oneof(token, fc.stringMatching(/^[0-9]{1,15}$/), fc.constant('%41lice'), fc.constant('a;b=c'));
const host = fc.oneof(
  fc.constantFrom('127.0.0.1', 'example.com', '[::1]', '[2001:db8::10]', 'a.b.c.d.e', '999.1.1.1', 'xn--bcher-kva.example'),
  fc.ipV4(),
  fc.domain(),
);
const port = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 70000 }).map((p) => `:${p}`));
const param = fc.oneof(
  token.map((t) => `;${t}`),
  fc.tuple(token, fc.oneof(token, fc.constant('"q u o t e d"'), fc.constant(''))).map(([k, v]) => `;${k}=${v}`),
  fc.constantFrom(';transport=tcp', ';transport=tls', ';lr', ';maddr=127.0.0.1', ';user=phone', ';ttl=999'),
);
const params = (max: number) => fc.array(param, { maxLength: max }).map((p) => p.join(''));
const scheme = fc.constantFrom('sip', 'sips', 'tel', 'SIP', 'mailto', 'urn');
const uri = fc.tuple(scheme, user, host, port, params(4)).map(([s, u, h, p, ps]) => `${s}:${u}@${h}${p}${ps}`);
const displayName = fc.oneof(
  fc.constant(''),
  token.map((t) => `${t} `),
  fc.string({ maxLength: 20 }).map((s) => `"${s.replace(/["\\\r\n]/g, '')}" `),
  fc.constant('"esc \\" aped" '),
);
const nameAddr = fc.tuple(displayName, uri, params(3)).map(([d, u, p]) => `${d}<${u}>${p}`);
const via = fc.tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'SCTP', 'udp', 'X'), host, port, token, params(6), fc.boolean())
  .map(([t, h, p, b, ps, rport]) => `SIP/2.0/${t} ${h}${p};branch=z9hG4bK${b}${rport ? ';rport' : ''}${ps}`);
const body = fc.oneof(
  fc.constant(''),
  fc.constant('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n'),
  fc.constant('SIP/2.0 200 OK\r\n'),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
);
const extension = fc.tuple(token, fc.string({ maxLength: 40 })).map(([n, v]) => `X-${n}: ${v.replace(/[\r\n]/g, ' ')}`);
const compact = fc.boolean();

/** One defect the parser can still answer, or none. */
type Defect = 'none' | 'cseq-method' | 'max-forwards' | 'content-length';
const defect = fc.constantFrom<Defect>('none', 'none', 'none', 'cseq-method', 'max-forwards', 'content-length');

const request = fc.record({
  method: fc.constantFrom(...METHODS),
  ruri: uri,
  via: fc.array(via, { minLength: 1, maxLength: 3 }),
  from: nameAddr, fromTag: token, to: nameAddr, toTag: fc.option(token, { nil: undefined }),
  callId: fc.tuple(token, fc.integer({ min: 0, max: 1e9 })).map(([t, n]) => `${t}-${n}@gen`),
  cseq: fc.integer({ min: 0, max: 2 ** 32 }),
  maxForwards: fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constant('70')),
  contact: fc.option(nameAddr, { nil: undefined }),
  extensions: fc.array(extension, { maxLength: 6 }),
  body, compact, fold: fc.boolean(), defect,
  lengthDelta: fc.constantFrom(0, 0, 0, -1, 1, 1000),
});

const response = fc.record({
  status: fc.integer({ min: 0, max: 999 }),
  reason: fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '')),
  via, from: nameAddr, to: nameAddr, fromTag: token, toTag: token,
  callId: token.map((t) => `${t}@gen`),
  cseq: fc.integer({ min: 0, max: 2 ** 31 }), method: fc.constantFrom(...METHODS),
  body, compact,
});

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;
type Res = typeof response extends fc.Arbitrary<infer T> ? T : never;

function renderRequest(r: Req): GeneratedSip {
  const h = (long: string, short: string) => (r.compact ? short : long);
  // A clean request for the answerable defects: sip URI, matching CSeq, SIP/2.0.
  const answerable = r.defect !== 'none' && ANSWERED.includes(r.method);
  const ruri = answerable ? 'sip:fuzz@127.0.0.1' : r.ruri;
  const method = r.method;
  const cseqMethod = r.defect === 'cseq-method' ? (method === 'OPTIONS' ? 'INFO' : 'OPTIONS') : method;
  const maxForwards = r.defect === 'max-forwards' ? 'seventy' : r.maxForwards;
  const lines = [
    `${method} ${ruri} SIP/2.0`,
    ...(answerable ? ['Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKans' + r.callId.length + r.cseq] : r.via.map((v) => `${h('Via', 'v')}: ${v}`)),
    `${h('From', 'f')}: ${answerable ? '<sip:a@127.0.0.1>' : r.from};tag=${r.fromTag}`,
    `${h('To', 't')}: ${answerable ? '<sip:b@127.0.0.1>' : r.to}${r.toTag && !answerable ? `;tag=${r.toTag}` : ''}`,
    `${h('Call-ID', 'i')}: ${r.callId}`,
    `CSeq: ${r.cseq % 2 ** 31} ${cseqMethod}`,
    `Max-Forwards: ${maxForwards}`,
  ];
  if (r.contact) lines.push(`${h('Contact', 'm')}: ${r.contact}`);
  for (const e of r.extensions) lines.push(r.fold ? e.replace(': ', ':\r\n  ') : e);
  if (r.body) lines.push(`${h('Content-Type', 'c')}: application/sdp`);
  const len = Buffer.byteLength(r.body, 'latin1');
  const cl = r.defect === 'content-length' ? 'twelve' : String(Math.max(0, len + (answerable ? 0 : r.lengthDelta)));
  lines.push(`${h('Content-Length', 'l')}: ${cl}`, '', r.body);
  const framed = String(len) === cl;
  return { data: Buffer.from(lines.join('\r\n'), 'latin1'), expect: answerable ? 400 : undefined, callId: r.callId, framed };
}

function renderResponse(r: Res): GeneratedSip {
  const lines = [
    `SIP/2.0 ${r.status} ${r.reason}`,
    `${r.compact ? 'v' : 'Via'}: ${r.via}`,
    `From: ${r.from};tag=${r.fromTag}`, `To: ${r.to};tag=${r.toTag}`,
    `Call-ID: ${r.callId}`, `CSeq: ${r.cseq} ${r.method}`,
    `Content-Length: ${Buffer.byteLength(r.body, 'latin1')}`, '', r.body,
  ];
  return { data: Buffer.from(lines.join('\r\n'), 'latin1'), callId: r.callId, framed: true };
}

/** A message from the grammar: a request (80 %) or a response. */
export const sipMessage: fc.Arbitrary<GeneratedSip> = fc.oneof(
  { weight: 4, arbitrary: request.map(renderRequest) },
  { weight: 1, arbitrary: response.map(renderResponse) },
);

/**
 * `count` generated messages from `seed`; a quarter of those without an expected answer also
 * get one byte-level mutation (a mutated message has no expected answer).
 */
export function generateSip(seed: number, count: number): GeneratedSip[] {
  const out = fc.sample(sipMessage, { seed, numRuns: count }).map((m, i) => unique(m, `${seed >>> 0}.${i}`));
  const r = rng(seed ^ 0x5bd1e995);
  return out.map((m) => (m.expect === undefined && r() < 0.25 ? { ...m, data: mutate(m.data, r), framed: false } : m));
}

/** fast-check favours small values, so Call-IDs repeat: make each one unique to match answers. */
function unique(m: GeneratedSip, suffix: string): GeneratedSip {
  const text = m.data.toString('latin1');
  const at = text.indexOf(`: ${m.callId}\r\n`);
  if (at < 0) return m;
  const callId = `${m.callId}.${suffix}`;
  const data = Buffer.from(text.slice(0, at + 2) + callId + text.slice(at + 2 + m.callId.length), 'latin1');
  return { ...m, data, callId };
}
