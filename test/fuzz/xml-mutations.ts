/**
 * Inputs for the XML interface (XML over TCP): the manual's request with byte- and tag-level
 * mutations, and the classic attacks — truncated and unclosed documents, "billion laughs",
 * external entities, huge and deeply nested documents, binary garbage, bad UTF-8.
 */
import { rng } from './sip-mutations.js';

export { rng };

export function goodRequest(destination: string, initiator = 'sip:alice@example.com'): string {
  return `<ClickToCall>\r\n<Request>\r\n<Initiator>${initiator}</Initiator>\r\n<Destination>${destination}</Destination>\r\n</Request>\r\n</ClickToCall>\r\n`;
}

/** A complete document the server must answer with one 400 (well delimited, so the stream stays in step). */
export function answerable400(r: () => number): string {
  const forms = [
    '<ClickToCall><Request><Initiator>sip:a@b</Initiator></Request></ClickToCall>', // no destination
    '<ClickToCall><Request><Destination>123</Destination></Request></ClickToCall>', // no initiator
    '<ClickToCall></ClickToCall>',
    '<HangUp><Request><CallId>1</CallId></Request></HangUp>', // unknown method
    '<ClickToCall><Request><Initiator>sip:a@b</Initiator><Destination>1</Destination></Request></Wrong></ClickToCall>',
    '<ClickToCall><Request><Initiator>&undefined;</Initiator><Destination>1</Destination></Request></ClickToCall>',
    '<!DOCTYPE c [<!ENTITY a "x">]><ClickToCall><Request><Initiator>&a;</Initiator><Destination>1</Destination></Request></ClickToCall>',
  ];
  return forms[Math.floor(r() * forms.length)]!;
}

/** "Billion laughs": ten levels of ten-fold entity expansion (never expanded: DOCTYPE refused). */
export function billionLaughs(): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE ClickToCall [', '<!ENTITY lol0 "lol">'];
  for (let i = 1; i < 10; i++) lines.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  lines.push(']>', '<ClickToCall><Request><Initiator>&lol9;</Initiator><Destination>1</Destination></Request></ClickToCall>');
  return lines.join('\n');
}

/** External entities: a local file and a URL on `port` (which must never see a connection). */
export function externalEntity(kind: 'file' | 'http', port: number): string {
  const system = kind === 'file' ? 'file:///etc/passwd' : `http://127.0.0.1:${port}/xxe`;
  return `<?xml version="1.0"?><!DOCTYPE ClickToCall [<!ENTITY xxe SYSTEM "${system}">]>`
    + '<ClickToCall><Request><Initiator>&xxe;</Initiator><Destination>1</Destination></Request></ClickToCall>';
}

const TAGS = ['<ClickToCall>', '</ClickToCall>', '<Request>', '</Request>', '<Initiator>', '</Initiator>', '<Destination>', '</Destination>', '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '&amp;', '&#0;', '&#x110000;', '<', '>', '"', "'", '\uFEFF'];

/** A mutated document: byte flips, truncation, tag insertions and deletions, bad UTF-8. */
export function mutateXml(doc: string, r: () => number): Buffer {
  const pick = (n: number) => Math.floor(r() * n);
  let s = doc;
  let bytes: Buffer | undefined;
  const rounds = 1 + pick(3);
  for (let k = 0; k < rounds; k++) {
    switch (pick(8)) {
      case 0: s = s.slice(0, pick(s.length + 1)); break; // truncated
      case 1: { const at = pick(s.length + 1); s = s.slice(0, at) + TAGS[pick(TAGS.length)] + s.slice(at); break; }
      case 2: { // drop a tag
        const at = s.indexOf('<', pick(s.length));
        const end = at < 0 ? -1 : s.indexOf('>', at);
        if (end > 0) s = s.slice(0, at) + s.slice(end + 1);
        break;
      }
      case 3: s = s.replace('</ClickToCall>', ''); break; // unclosed root
      case 4: s = s.replace('<Request>', `<Request a="${'x'.repeat(pick(5000))}" ${Array.from({ length: pick(300) }, (_, i) => `b${i}="${i}"`).join(' ')}>`); break;
      case 5: s = s.replace('<Initiator>', '<x>'.repeat(pick(3000)) + '<Initiator>'); break; // deep nesting, unclosed
      case 6: s = s.toLowerCase(); break;
      default: { // raw bytes: bad UTF-8, NULs, control characters
        const b = Buffer.from(s);
        const n = 1 + pick(6);
        for (let i = 0; i < n && b.length > 0; i++) b[pick(b.length)] = [0x00, 0xff, 0xc3, 0x80, 0x0c, 0xfe][pick(6)]!;
        bytes = b;
        s = b.toString('latin1');
      }
    }
  }
  return bytes && s === bytes.toString('latin1') ? bytes : Buffer.from(s, 'latin1');
}

export function garbage(r: () => number, max = 4000): Buffer {
  const b = Buffer.alloc(1 + Math.floor(r() * max));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b;
}
