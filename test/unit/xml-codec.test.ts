import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XmlFramer } from '../../src/api/xml/framer.js';
import type { XmlDocument } from '../../src/api/xml/document-parser.js';
import {
  echoOf,
  escapeXmlText,
  extractRequest,
  isFinalResult,
  renderResponse,
  secretMatches,
} from '../../src/api/xml/codec.js';
import type { XmlResult } from '../../src/api/xml/codec.js';

// The manual's example request, as printed (LF line ends).
const MANUAL_REQUEST =
  '<ClickToCall>\n' +
  '<Request>\n' +
  '<Initiator>sip:scott@sipdomain.com</Initiator>\n' +
  '<Destination>9055551234</Destination>\n' +
  '<AnchorCall>false</AnchorCall>\n' +
  '</Request>\n' +
  '</ClickToCall>';

function parse(text: string): XmlDocument {
  const items = new XmlFramer().push(text);
  assert.equal(items.length, 1);
  const item = items[0]!;
  assert.equal(item.kind, 'document', JSON.stringify(item));
  return (item as { kind: 'document'; document: XmlDocument }).document;
}

function answer(text: string, result: XmlResult): string {
  return renderResponse(echoOf(parse(text)), result);
}

test('100 with translated URIs, exactly as the replaced system writes it', () => {
  const got = answer(MANUAL_REQUEST, {
    code: 100,
    text: 'In progress',
    translatedInitiator: 'sip:scott@sipdomain.com',
    translatedDestination: 'sip:9055551234@gateway.com',
  });
  assert.equal(
    got,
    '<ClickToCall>\n' +
      '<Request>\n' +
      '<Initiator>sip:scott@sipdomain.com</Initiator>\n' +
      '<Destination>9055551234</Destination>\n' +
      '<AnchorCall>false</AnchorCall>\n' +
      '</Request>\n' +
      '\r\n' +
      '  <Response>\r\n' +
      '    <TranslatedInitiator>sip:scott@sipdomain.com</TranslatedInitiator>\r\n' +
      '    <TranslatedDestination>sip:9055551234@gateway.com</TranslatedDestination>\r\n' +
      '    <Result Code="100">In progress</Result>\r\n' +
      '  </Response>\r\n' +
      '</ClickToCall>',
  );
});

test('a result with a leg, and one without translated lines', () => {
  assert.equal(
    answer(MANUAL_REQUEST, { code: 180, leg: 'Initiator', text: 'Ringing initiator' }),
    '<ClickToCall>\n<Request>\n<Initiator>sip:scott@sipdomain.com</Initiator>\n' +
      '<Destination>9055551234</Destination>\n<AnchorCall>false</AnchorCall>\n</Request>\n' +
      '\r\n  <Response>\r\n    <Result Code="180" Leg="Initiator">Ringing initiator</Result>\r\n  </Response>\r\n</ClickToCall>',
  );
  // Translated URIs belong to the 100 only.
  assert.equal(
    answer('<ClickToCall><Request></Request></ClickToCall>', {
      code: 486,
      leg: 'Destination',
      text: 'Failed to connect to destination',
      translatedInitiator: 'sip:x',
    }),
    '<ClickToCall><Request></Request>\r\n  <Response>\r\n' +
      '    <Result Code="486" Leg="Destination">Failed to connect to destination</Result>\r\n' +
      '  </Response>\r\n</ClickToCall>',
  );
});

test('the whitespace after </Request> is echoed as received; a prolog is not echoed', () => {
  const text = '<?xml version="1.0"?>\r\n<!-- hi -->\r\n<ClickToCall a="1">\r\n\t<Request><Initiator>a</Initiator></Request> \r\n\t <!-- x --></ClickToCall>';
  assert.equal(
    answer(text, { code: 200, leg: 'Destination', text: 'Connected to destination' }),
    '<ClickToCall a="1">\r\n\t<Request><Initiator>a</Initiator></Request> \r\n\t ' +
      '\r\n  <Response>\r\n    <Result Code="200" Leg="Destination">Connected to destination</Result>\r\n  </Response>\r\n' +
      '<!-- x --></ClickToCall>',
  );
});

test('no literal </Request>: the bare form', () => {
  const bare400 = '<Response>\r\n    <Result Code="400">Missing initiator and/or destination tags</Result>\r\n</Response>';
  const selfClosing = parse('<ClickToCall><Request/></ClickToCall>');
  const extraction = extractRequest(selfClosing);
  assert.equal(extraction.ok, false);
  assert.equal(renderResponse(echoOf(selfClosing), (extraction as { result: XmlResult }).result), bare400);

  const lower = parse('<clicktocall><request><initiator>a</initiator><destination>b</destination></request></clicktocall>');
  assert.equal(echoOf(lower), null);
  assert.deepEqual(extractRequest(lower), { ok: true, fields: { initiator: 'a', destination: 'b' } });
  assert.equal(
    renderResponse(null, { code: 100, text: 'In progress', translatedInitiator: 'sip:a@h', translatedDestination: 'sip:b@h' }),
    '<Response>\r\n    <TranslatedInitiator>sip:a@h</TranslatedInitiator>\r\n' +
      '    <TranslatedDestination>sip:b@h</TranslatedDestination>\r\n    <Result Code="100">In progress</Result>\r\n</Response>',
  );
  assert.equal(
    renderResponse(null, { code: 400, text: 'Parse error' }),
    '<Response>\r\n    <Result Code="400">Parse error</Result>\r\n</Response>',
  );
});

test('an unknown root with </Request> is echoed with 400 Unknown method', () => {
  const doc = parse('<Hangup>\n<Request><Initiator>a</Initiator></Request>\n</Hangup>');
  const extraction = extractRequest(doc);
  assert.deepEqual(extraction, { ok: false, result: { code: 400, text: 'Unknown method' } });
  assert.equal(
    renderResponse(echoOf(doc), (extraction as { result: XmlResult }).result),
    '<Hangup>\n<Request><Initiator>a</Initiator></Request>\n\r\n  <Response>\r\n' +
      '    <Result Code="400">Unknown method</Result>\r\n  </Response>\r\n</Hangup>',
  );
});

test('fields: case-insensitive tags, values trimmed, AnchorCall true only for true, Mode', () => {
  const fields = (body: string): unknown => extractRequest(parse(`<CLICKTOCALL><request>${body}</request></CLICKTOCALL>`));
  assert.deepEqual(fields('<INITIATOR>\n  sip:a@x \t</INITIATOR><destination> 123 </destination><anchorcall> TRUE </anchorcall><MODE> ood-refer </MODE>'), {
    ok: true,
    fields: { initiator: 'sip:a@x', destination: '123', anchor: true, mode: 'ood-refer' },
  });
  assert.deepEqual(fields('<Initiator>a</Initiator><Destination>b</Destination><AnchorCall>yes</AnchorCall>'), {
    ok: true,
    fields: { initiator: 'a', destination: 'b', anchor: false },
  });
  assert.deepEqual(fields('<Initiator>a</Initiator><Destination>b</Destination><AnchorCall></AnchorCall><Mode/>'), {
    ok: true,
    fields: { initiator: 'a', destination: 'b' },
  });
  const missing = { ok: false, result: { code: 400, text: 'Missing initiator and/or destination tags' } };
  assert.deepEqual(fields('<Initiator>a</Initiator>'), missing);
  assert.deepEqual(fields('<Initiator>a</Initiator><Destination>  </Destination>'), missing);
  assert.deepEqual(extractRequest(parse('<ClickToCall/>')), missing);
});

test('the secret is cut from the echo with the whitespace before it', () => {
  const text =
    '<ClickToCall>\n<Request>\n<Initiator>a</Initiator>\n<Destination>b</Destination>\n' +
    '  <Secret>hunter2</Secret>\n</Request>\n<secret>again</secret>\n</ClickToCall>';
  const doc = parse(text);
  assert.deepEqual(extractRequest(doc, 'hunter2'), { ok: true, fields: { initiator: 'a', destination: 'b' } });
  const got = renderResponse(echoOf(doc), { code: 180, leg: 'Destination', text: 'Ringing destination' });
  assert.equal(
    got,
    '<ClickToCall>\n<Request>\n<Initiator>a</Initiator>\n<Destination>b</Destination>\n</Request>\n' +
      '\r\n  <Response>\r\n    <Result Code="180" Leg="Destination">Ringing destination</Result>\r\n  </Response>\r\n' +
      '\n</ClickToCall>',
  );
  assert.equal(got.includes('hunter2') || got.includes('again'), false);
});

test('a wrong or missing secret is refused with 403 and the echo still hides it', () => {
  const doc = parse('<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination><Secret>guess</Secret></Request></ClickToCall>');
  const refused = extractRequest(doc, 'hunter2');
  assert.deepEqual(refused, { ok: false, result: { code: 403, text: 'Refused: bad secret' } });
  assert.equal(
    renderResponse(echoOf(doc), (refused as { result: XmlResult }).result),
    '<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination></Request>\r\n' +
      '  <Response>\r\n    <Result Code="403">Refused: bad secret</Result>\r\n  </Response>\r\n</ClickToCall>',
  );
  const none = parse('<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination></Request></ClickToCall>');
  assert.equal(extractRequest(none, 'hunter2').ok, false);
  assert.equal(extractRequest(none).ok, true); // no XmlSecret configured: none needed
  assert.equal(extractRequest(doc).ok, true); // …and a given one is ignored
  // The secret is judged before the addresses, so nothing is revealed to a stranger.
  const empty = parse('<ClickToCall><Request/></ClickToCall>');
  assert.equal((extractRequest(empty, 's') as { result: XmlResult }).result.code, 403);
});

test('secretMatches compares whole values', () => {
  assert.equal(secretMatches('abc', 'abc'), true);
  assert.equal(secretMatches('abd', 'abc'), false);
  assert.equal(secretMatches('ab', 'abc'), false);
  assert.equal(secretMatches('abcd', 'abc'), false);
  assert.equal(secretMatches(undefined, 'abc'), false);
  assert.equal(secretMatches('', ''), true);
  assert.equal(secretMatches(undefined, ''), false);
});

test('inserted text is escaped', () => {
  assert.equal(escapeXmlText('a<b>&c'), 'a&lt;b&gt;&amp;c');
  assert.equal(escapeXmlText('plain'), 'plain');
  assert.equal(
    renderResponse(null, {
      code: 100,
      text: 'x & y',
      translatedInitiator: 'sip:a@h;p=<1>',
      translatedDestination: 'sip:b@h?x=1&y=2',
    }),
    '<Response>\r\n    <TranslatedInitiator>sip:a@h;p=&lt;1&gt;</TranslatedInitiator>\r\n' +
      '    <TranslatedDestination>sip:b@h?x=1&amp;y=2</TranslatedDestination>\r\n    <Result Code="100">x &amp; y</Result>\r\n</Response>',
  );
  assert.equal(
    renderResponse(null, { code: 400, text: 'No translation rule for either initiator <a> or destination b&c' }),
    '<Response>\r\n    <Result Code="400">No translation rule for either initiator &lt;a&gt; or destination b&amp;c</Result>\r\n</Response>',
  );
});

test('which results are final', () => {
  assert.equal(isFinalResult({ code: 100 }), false);
  assert.equal(isFinalResult({ code: 180, leg: 'Destination' }), false);
  assert.equal(isFinalResult({ code: 200, leg: 'Initiator' }), false);
  assert.equal(isFinalResult({ code: 200, leg: 'Destination' }), true);
  assert.equal(isFinalResult({ code: 400 }), true);
  assert.equal(isFinalResult({ code: 486, leg: 'Initiator' }), true);
  assert.equal(isFinalResult({ code: 302, leg: 'Initiator' }), true);
});
