import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';
import { XmlFramer } from '../../src/api/xml/framer.js';
import type { FramedItem } from '../../src/api/xml/framer.js';
import type { XmlDocument } from '../../src/api/xml/document-parser.js';

const DOC_A =
  '<ClickToCall>\n<Request>\n<Initiator>sip:jürgen@example.com</Initiator>\n' +
  '<Destination>9055551234 😀</Destination>\n<AnchorCall>false</AnchorCall>\n</Request>\n</ClickToCall>';
const DOC_B =
  '<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- second -->\r\n<ClickToCall id="b">' +
  '<Request><Initiator>sip:b@x</Initiator><Destination><![CDATA[€<1>]]></Destination></Request></ClickToCall>';

function docs(items: FramedItem[]): XmlDocument[] {
  return items.map((item) => {
    assert.equal(item.kind, 'document', `expected a document, got ${JSON.stringify(item)}`);
    return (item as { kind: 'document'; document: XmlDocument }).document;
  });
}

function frameAll(chunks: Array<Buffer | string>, maxDocumentSize?: number): FramedItem[] {
  const framer = new XmlFramer(maxDocumentSize === undefined ? {} : { maxDocumentSize });
  const out: FramedItem[] = [];
  for (const chunk of chunks) out.push(...framer.push(chunk));
  return out;
}

function kinds(items: FramedItem[]): string[] {
  return items.map((i) => (i.kind === 'document' ? `doc:${i.document.rootName}` : `${i.reason}${i.fatal ? '!' : ''}`));
}

test('a two-document stream split at every byte position gives the same two documents', () => {
  const stream = Buffer.from(`${DOC_A}\r\n  \t${DOC_B}`, 'utf8');
  for (let k = 0; k <= stream.length; k++) {
    const got = docs(frameAll([stream.subarray(0, k), stream.subarray(k)]));
    assert.equal(got.length, 2, `split at ${k}`);
    assert.equal(got[0]!.text, DOC_A, `split at ${k}`);
    assert.equal(got[1]!.text, DOC_B, `split at ${k}`);
    assert.equal(got[0]!.request?.get('initiator'), 'sip:jürgen@example.com');
    assert.equal(got[1]!.request?.get('destination'), '€<1>');
  }
});

test('a stream fed one byte at a time gives the same documents', () => {
  const stream = Buffer.from(`${DOC_B}${DOC_A}`, 'utf8');
  const chunks: Buffer[] = [];
  for (let k = 0; k < stream.length; k++) chunks.push(stream.subarray(k, k + 1));
  const got = docs(frameAll(chunks));
  assert.deepEqual(got.map((d) => d.text), [DOC_B, DOC_A]);
  assert.equal(got[1]!.bytes, Buffer.byteLength(DOC_A));
});

test('a multi-byte character split across chunks is decoded whole', () => {
  const doc = '<ClickToCall><Request><Initiator>😀€é</Initiator><Destination>d</Destination></Request></ClickToCall>';
  const bytes = Buffer.from(doc, 'utf8');
  const emoji = bytes.indexOf(Buffer.from('😀', 'utf8'));
  for (let cut = emoji + 1; cut < emoji + 7; cut++) {
    const [got] = docs(frameAll([bytes.subarray(0, cut), bytes.subarray(cut)]));
    assert.equal(got!.request?.get('initiator'), '😀€é');
    assert.equal(got!.text, doc);
    assert.equal(got!.bytes, bytes.length);
  }
});

test('several documents in one chunk, with whitespace and a byte-order mark between them', () => {
  const got = docs(frameAll([`\r\n \ufeff${DOC_A}\n\n${DOC_A}\t${DOC_B}  \r\n`]));
  assert.deepEqual(got.map((d) => d.text), [DOC_A, DOC_A, DOC_B]);
});

test('prolog, comments, CDATA and attributes are read; the root start is located', () => {
  const text =
    '<?xml version="1.0"?><!-- c1 --><ClickToCall version="2" xmlns:x="urn:x">' +
    '<!-- c2 --><Request kind="call"><Initiator a="1"> <![CDATA[sip:a@x]]> </Initiator>' +
    '<Destination>d&amp;e</Destination><x:Other/></Request></ClickToCall>';
  const [doc] = docs(frameAll([text]));
  assert.equal(doc!.text, text);
  assert.equal(doc!.rootName, 'ClickToCall');
  assert.equal(doc!.rootStart, text.indexOf('<ClickToCall'));
  assert.equal(doc!.request?.get('initiator'), ' sip:a@x ');
  assert.equal(doc!.request?.get('destination'), 'd&e');
  assert.equal(doc!.requestEnd, text.indexOf('</Request>') + '</Request>'.length);
});

test('the echo split needs the literal </Request>: lower case and <Request/> have none', () => {
  const [lower, selfClosing] = docs(
    frameAll(['<clicktocall><request><initiator>a</initiator></request></clicktocall><ClickToCall><Request/></ClickToCall>']),
  );
  assert.equal(lower!.requestEnd, -1);
  assert.equal(lower!.request?.get('initiator'), 'a');
  assert.equal(selfClosing!.requestEnd, -1);
  assert.deepEqual([...(selfClosing!.request ?? new Map()).keys()], []);
});

test('a self-closing root and an end tag with blanks before > end the document', () => {
  const got = docs(frameAll(['<ClickToCall/><ClickToCall><Request></Request></ClickToCall \r\n>']));
  assert.deepEqual(got.map((d) => d.text), ['<ClickToCall/>', '<ClickToCall><Request></Request></ClickToCall \r\n>']);
});

test('secret elements are located with the whitespace before them', () => {
  const text = '<ClickToCall><Request>\n  <Secret>s3</Secret>\n<Initiator>a</Initiator></Request></ClickToCall>';
  const [doc] = docs(frameAll([text]));
  assert.equal(doc!.request?.get('secret'), 's3');
  assert.deepEqual(doc!.secretSpans, [
    { cutStart: text.indexOf('\n  <Secret>'), start: text.indexOf('<Secret>'), end: text.indexOf('</Secret>') + 9 },
  ]);
});

test('a document larger than the limit is a fatal error; at the limit it is accepted', () => {
  const doc = '<ClickToCall><Request><Initiator>é</Initiator></Request></ClickToCall>';
  const size = Buffer.byteLength(doc); // é counts two bytes
  assert.deepEqual(kinds(frameAll([doc], size)), ['doc:ClickToCall']);
  assert.deepEqual(kinds(frameAll([doc + doc], size)), ['doc:ClickToCall', 'doc:ClickToCall']);
  assert.deepEqual(kinds(frameAll([doc], size - 1)), ['too-large!']);
  // Still open, fed in pieces: refused as soon as it passes the limit, then nothing more.
  const framer = new XmlFramer({ maxDocumentSize: 40 });
  assert.deepEqual(kinds(framer.push('<ClickToCall><Request>')), []);
  assert.deepEqual(kinds(framer.push('<Initiator>aaaaaaaaaaaaaaaaaaaa')), ['too-large!']);
  assert.equal(framer.dead, true);
  assert.deepEqual(framer.push(doc), []);
  // Garbage with no '<' at all is bounded the same way.
  assert.deepEqual(kinds(frameAll(['x'.repeat(41)], 40)), ['too-large!']);
});

test('binary garbage before a good document: one 400, then the document', () => {
  const garbage = Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x3c, 0x20, 0x3c, 0x2f, 0x0a]);
  const items = frameAll([garbage, Buffer.from(DOC_A)]);
  assert.deepEqual(kinds(items), ['parse', 'doc:ClickToCall']);
  assert.equal(docs(items.slice(1))[0]!.text, DOC_A);
});

test('malformed documents resynchronise at the literal root end tag', () => {
  const mismatched = '<ClickToCall><Request><Initiator>a</Destination><Destination>b</Destination></Request></ClickToCall>';
  const unmatched = '<ClickToCall><Request></Foo></Request></ClickToCall>';
  const badEntity = '<ClickToCall><Request><Initiator>&nope;</Initiator></Request></ClickToCall>';
  const badRootEnd = '<ClickToCall><Request></Request></ClickToCallX></ClickToCall>';
  for (const bad of [mismatched, unmatched, badEntity, badRootEnd]) {
    const items = frameAll([bad, '\n', DOC_A]);
    assert.deepEqual(kinds(items), ['parse', 'doc:ClickToCall'], bad);
    assert.equal(docs(items.slice(1))[0]!.text, DOC_A);
    // Also when the resynchronising end tag is cut by a chunk boundary.
    const whole = Buffer.from(bad + DOC_A);
    const cut = whole.indexOf('</ClickToCall>', Buffer.byteLength(bad) - 14) + 5;
    assert.deepEqual(kinds(frameAll([whole.subarray(0, cut), whole.subarray(cut)])), ['parse', 'doc:ClickToCall'], bad);
  }
});

test('an unclosed root swallows what follows until the size limit closes the stream', () => {
  const items = frameAll(['<ClickToCall><Request>', DOC_A, DOC_A], 200);
  assert.deepEqual(kinds(items), ['too-large!']);
});

test('an incomplete document at the end of the stream is a parse error', () => {
  const framer = new XmlFramer();
  assert.deepEqual(framer.push('<ClickToCall><Request>'), []);
  assert.deepEqual(kinds(framer.end()), ['parse']);
  const quiet = new XmlFramer();
  quiet.push(`${DOC_A}  \r\n`);
  assert.deepEqual(quiet.end(), []);
});

test('an external entity is never resolved: the DOCTYPE earns a parse error', () => {
  const xxe =
    '<?xml version="1.0"?><!DOCTYPE ClickToCall [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
    '<ClickToCall><Request><Initiator>&xxe;</Initiator><Destination>d</Destination></Request></ClickToCall>';
  assert.deepEqual(kinds(frameAll([xxe, DOC_A])), ['parse', 'doc:ClickToCall']);

  // And saxes itself leaves the reference unresolved (an error, no file content).
  const sax = new SaxesParser();
  const errors: string[] = [];
  let text = '';
  sax.on('error', (e) => errors.push(e.message));
  sax.on('text', (t) => (text += t));
  sax.write(xxe).close();
  assert.ok(errors.some((m) => m.includes('undefined entity')), errors.join('; '));
  assert.equal(text.includes('root:'), false);
  assert.equal(text, '&xxe;d');
});

test('billion laughs: not expanded, answered with a parse error, quickly', () => {
  let decl = '<!ENTITY lol "lol">';
  for (let n = 1; n <= 9; n++) {
    const prev = n === 1 ? 'lol' : `lol${n - 1}`;
    decl += `<!ENTITY lol${n} "${`&${prev};`.repeat(10)}">`;
  }
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [${decl}]><ClickToCall><Request><Initiator>&lol9;</Initiator></Request></ClickToCall>`;
  const started = process.hrtime.bigint();
  assert.deepEqual(kinds(frameAll([bomb, DOC_A])), ['parse', 'doc:ClickToCall']);
  assert.ok(process.hrtime.bigint() - started < 1_000_000_000n);

  const sax = new SaxesParser();
  let text = '';
  sax.on('error', () => {});
  sax.on('text', (t) => (text += t));
  sax.write(bomb).close();
  assert.equal(text, '&lol9;');
});

test('a lone < at a chunk end waits for the next character', () => {
  const items = frameAll(['  <', 'ClickToCall><Request></Request></ClickToCall>', '<', ' junk', DOC_A]);
  assert.deepEqual(kinds(items), ['doc:ClickToCall', 'parse', 'doc:ClickToCall']);
});

test('garbage trailing a malformed document is not answered twice', () => {
  const items = frameAll(['<ClickToCall><Request></Foo></Request></ClickToCall> tail </x>', DOC_A]);
  assert.deepEqual(kinds(items), ['parse', 'doc:ClickToCall']);
});

test('end tags inside CDATA or comments neither end the document nor split the echo', () => {
  const text =
    '<ClickToCall><!-- </Request> </ClickToCall> --><Request><Initiator><![CDATA[</ClickToCall>]]></Initiator>' +
    '</Request></ClickToCall>';
  const [doc] = docs(frameAll([text, DOC_A]).slice(0, 1));
  assert.equal(doc!.text, text);
  assert.equal(doc!.request?.get('initiator'), '</ClickToCall>');
  assert.equal(doc!.requestEnd, text.lastIndexOf('</Request>') + 10);
});

test('documents pipelined in one chunk frame as they do byte by byte, whatever their end tags hold', () => {
  // The parser cuts a piece after the first literal end tag of its root's name: a nested element
  // of that name, the name inside CDATA or a comment, or a malformed document must not change
  // what comes out, nor lose the documents that follow in the same chunk.
  const nested = '<ClickToCall><ClickToCall>x</ClickToCall><Request><Initiator>n</Initiator></Request></ClickToCall>';
  const cdata = '<ClickToCall><Request><Initiator><![CDATA[</ClickToCall>]]></Initiator></Request></ClickToCall>';
  const comment = '<ClickToCall><!-- </ClickToCall > --><Request><Initiator>c</Initiator></Request></ClickToCall >';
  const attributes = '<ClickToCall id="1"\n><Request><Initiator>a</Initiator></Request></ClickToCall>';
  const selfClosing = '<ClickToCall/>';
  const prefixed = '<c2c:Call xmlns:c2c="urn:x"><Request><Initiator>p</Initiator></Request></c2c:Call>';
  const mismatched = '<ClickToCall><Request><Initiator>a</Destination></Request></ClickToCall>';
  const unmatched = '<ClickToCall><Request></Foo></Request></ClickToCall>';
  const badRootEnd = '<ClickToCall><Request></Request></ClickToCallX></ClickToCall>';
  const cases = [nested, cdata, comment, attributes, selfClosing, prefixed, mismatched, unmatched, badRootEnd];
  for (const first of cases) {
    const stream = `${first}${DOC_A}\n${first}${DOC_A}`;
    const whole = frameAll([stream]);
    const bytes = Buffer.from(stream, 'utf8');
    const byByte = frameAll(Array.from({ length: bytes.length }, (_, k) => bytes.subarray(k, k + 1)));
    assert.deepEqual(kinds(whole), kinds(byByte), first);
    assert.equal(whole.length, 4, first);
    const texts = (items: FramedItem[]) => items.map((i) => (i.kind === 'document' ? i.document.text : i.reason));
    assert.deepEqual(texts(whole), texts(byByte), first);
    assert.equal(texts(whole)[1], DOC_A, first);
    assert.equal(texts(whole)[3], DOC_A, first);
  }
  const [outer] = docs(frameAll([nested + DOC_A]).slice(0, 1));
  assert.equal(outer!.text, nested, 'the nested element of the root\'s name does not end the document');
  assert.equal(outer!.request?.get('initiator'), 'n');
});
