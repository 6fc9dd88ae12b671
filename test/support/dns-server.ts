// A tiny authoritative DNS server for tests: UDP on loopback, an OS-chosen port, answers
// A, AAAA, SRV and NAPTR from a table. Just enough of RFC 1035 wire format for node:dns.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

export interface SrvAnswer {
  priority: number;
  weight: number;
  port: number;
  name: string;
}

export interface NaptrAnswer {
  order: number;
  preference: number;
  flags: string;
  service: string;
  regexp: string;
  replacement: string;
}

export interface DnsRecords {
  ttl?: number;
  A?: string[];
  AAAA?: string[];
  SRV?: SrvAnswer[];
  NAPTR?: NaptrAnswer[];
}

/** Names (without trailing dot) → records. A name absent from the table answers NXDOMAIN. */
export type DnsZone = Record<string, DnsRecords>;

export interface TestDnsServer {
  address: string;
  port: number;
  /** `host:port` / `[v6]:port`, ready for Resolver.setServers. */
  server: string;
  /** Every question received, in order, e.g. { type: 'NAPTR', name: 'example.test' }. */
  queries: Array<{ type: string; name: string }>;
  close(): Promise<void>;
}

const TYPE_CODES: Record<number, keyof Omit<DnsRecords, 'ttl'>> = { 1: 'A', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR' };
const RCODE_NXDOMAIN = 3;
const RCODE_FORMERR = 1;

export async function startDnsServer(zone: DnsZone, host = '127.0.0.1'): Promise<TestDnsServer> {
  const table = new Map(Object.entries(zone).map(([name, records]) => [name.toLowerCase(), records]));
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  const queries: TestDnsServer['queries'] = [];
  socket.on('message', (message: Buffer, peer: RemoteInfo) => {
    // A test server that throws would hide the real failure behind a crash: drop bad input.
    const reply = answer(message, table, queries);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await bindSocket(socket, host);
  const port = socket.address().port;
  return {
    address: host,
    port,
    server: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function answer(query: Buffer, table: Map<string, DnsRecords>, log: TestDnsServer['queries']): Buffer | undefined {
  if (query.length < 12) return undefined;
  const parsed = readQuestion(query, 12);
  if (!parsed) return undefined;
  const { name, end } = parsed;
  if (end + 4 > query.length) return undefined;
  const qtype = query.readUInt16BE(end);
  const questionEnd = end + 4;
  const type = TYPE_CODES[qtype];
  log.push({ type: type ?? `TYPE${qtype}`, name });

  const records = table.get(name);
  const rdatas: Buffer[] = [];
  if (records && type) {
    for (const value of records[type] ?? []) rdatas.push(encodeRdata(type, value));
  }
  const ttl = records?.ttl ?? 60;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const rd = query[2]! & 0x01;
  header[2] = 0x80 | (query[2]! & 0x78) | 0x04 | rd; // QR, opcode echoed, AA, RD echoed
  header[3] = 0x80 | (records ? 0 : RCODE_NXDOMAIN); // RA
  if (query.readUInt16BE(4) !== 1) header[3] = 0x80 | RCODE_FORMERR;
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdatas.length, 6);
  const parts: Buffer[] = [header, query.subarray(12, questionEnd)];
  for (const rdata of rdatas) {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // compression pointer to the question's name (offset 12)
    fixed.writeUInt16BE(qtype, 2);
    fixed.writeUInt16BE(1, 4); // class IN
    fixed.writeUInt32BE(ttl, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    parts.push(fixed, rdata);
  }
  return Buffer.concat(parts);
}

/** Reads an uncompressed name; lower-cased, no trailing dot. */
function readQuestion(buf: Buffer, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let at = offset;
  for (let count = 0; count < 128; count++) {
    if (at >= buf.length) return undefined;
    const length = buf[at]!;
    if (length === 0) return { name: labels.join('.').toLowerCase(), end: at + 1 };
    if (length > 63 || at + 1 + length > buf.length) return undefined; // pointers never occur in a question
    labels.push(buf.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  return undefined;
}

function encodeRdata(type: string, value: string | SrvAnswer | NaptrAnswer): Buffer {
  switch (type) {
    case 'A':
      return Buffer.from((value as string).split('.').map(Number));
    case 'AAAA':
      return ipv6Bytes(value as string);
    case 'SRV': {
      const srv = value as SrvAnswer;
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(srv.priority, 0);
      fixed.writeUInt16BE(srv.weight, 2);
      fixed.writeUInt16BE(srv.port, 4);
      return Buffer.concat([fixed, encodeName(srv.name)]); // RFC 2782: target not compressed
    }
    default: {
      const naptr = value as NaptrAnswer;
      const fixed = Buffer.alloc(4);
      fixed.writeUInt16BE(naptr.order, 0);
      fixed.writeUInt16BE(naptr.preference, 2);
      return Buffer.concat([
        fixed,
        characterString(naptr.flags),
        characterString(naptr.service),
        characterString(naptr.regexp),
        encodeName(naptr.replacement), // RFC 3403 §4.1: replacement not compressed
      ]);
    }
  }
}

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.').filter((l) => l !== '')) parts.push(characterString(label));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function characterString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function ipv6Bytes(text: string): Buffer {
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface SilentDnsServer {
  /** `127.0.0.1:port`, for DNSServers. */
  server: string;
  /** Every question received, retries included, with when it came (Date.now()). */
  queries: Array<{ type: string; name: string; at: number }>;
  close(): Promise<void>;
}

/** A DNS server that reads every question and never answers: a resolver that is down or cut off. */
export async function startSilentDnsServer(host = '127.0.0.1'): Promise<SilentDnsServer> {
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  const queries: SilentDnsServer['queries'] = [];
  socket.on('message', (message: Buffer) => {
    const at = Date.now();
    const parsed = message.length >= 12 ? readQuestion(message, 12) : undefined;
    if (!parsed || parsed.end + 4 > message.length) return;
    const code = message.readUInt16BE(parsed.end);
    queries.push({ type: TYPE_CODES[code] ?? String(code), name: parsed.name, at });
  });
  await bindSocket(socket, host);
  const port = socket.address().port;
  return {
    server: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Binds a UDP socket to an ephemeral port of `host`; rejects with the bind error. */
function bindSocket(socket: Socket, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}
