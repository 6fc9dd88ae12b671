import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { XmlServer } from '../../src/api/xml/server.js';
import type { XmlServerOptions } from '../../src/api/xml/server.js';
import type { XmlCallRequest, XmlRequestHandler, XmlResultSink, XmlTimers } from '../../src/api/xml/types.js';

// The manual's example request (LF line ends, as printed).
const HEAD =
  '<ClickToCall>\n<Request>\n<Initiator>sip:scott@sipdomain.com</Initiator>\n' +
  '<Destination>9055551234</Destination>\n<AnchorCall>false</AnchorCall>\n</Request>\n';
const TAIL = '</ClickToCall>';
const REQUEST = HEAD + TAIL;

function request(initiator: string, destination: string): string {
  return `<ClickToCall><Request><Initiator>${initiator}</Initiator><Destination>${destination}</Destination></Request></ClickToCall>`;
}

/** Polls `predicate` until it holds; fails after `ms` (a bound, not a protocol timeout). */
async function waitFor(predicate: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

class Client {
  readonly socket: Socket;
  #chunks: Buffer[] = [];
  ended = false;
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static open(port: number, host = '127.0.0.1'): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  get bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  get text(): string {
    return this.bytes.toString('utf8');
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Waits until `count` answers (echoed or bare) have arrived. */
  async answers(count: number): Promise<string> {
    await waitFor(() => countAnswers(this.text) >= count, `${count} answers`);
    return this.text;
  }
}

function countAnswers(text: string): number {
  let n = 0;
  for (let k = text.indexOf('</Response>'); k >= 0; k = text.indexOf('</Response>', k + 1)) n++;
  return n;
}

async function start(
  handler: XmlRequestHandler,
  options: Partial<XmlServerOptions> = {},
): Promise<{ server: XmlServer; port: number }> {
  const server = new XmlServer({ hosts: ['127.0.0.1'], port: 0, ...options }, handler);
  const [address] = await server.listen();
  return { server, port: address!.port };
}

/** A handler that answers every request with this sequence, one step per event-loop turn. */
function successHandler(seen: XmlCallRequest[] = []): XmlRequestHandler {
  return {
    submit(req, sink) {
      seen.push(req);
      const steps = [
        () =>
          sink.result({
            code: 100,
            text: 'In progress',
            translatedInitiator: 'sip:scott@sipdomain.com',
            translatedDestination: 'sip:9055551234@gateway.com',
          }),
        () => sink.result({ code: 180, leg: 'Initiator', text: 'Ringing initiator' }),
        () => sink.result({ code: 200, leg: 'Initiator', text: 'Connected to initiator' }),
        () => sink.result({ code: 180, leg: 'Destination', text: 'Ringing destination' }),
        () => sink.result({ code: 200, leg: 'Destination', text: 'Connected to destination' }),
      ];
      const next = (): void => {
        const step = steps.shift();
        if (step === undefined) return;
        step();
        setImmediate(next);
      };
      setImmediate(next);
    },
  };
}

const SUCCESS_STREAM =
  HEAD +
  '\r\n  <Response>\r\n' +
  '    <TranslatedInitiator>sip:scott@sipdomain.com</TranslatedInitiator>\r\n' +
  '    <TranslatedDestination>sip:9055551234@gateway.com</TranslatedDestination>\r\n' +
  '    <Result Code="100">In progress</Result>\r\n' +
  '  </Response>\r\n' +
  TAIL +
  HEAD +
  '\r\n  <Response>\r\n    <Result Code="180" Leg="Initiator">Ringing initiator</Result>\r\n  </Response>\r\n' +
  TAIL +
  HEAD +
  '\r\n  <Response>\r\n    <Result Code="200" Leg="Initiator">Connected to initiator</Result>\r\n  </Response>\r\n' +
  TAIL +
  HEAD +
  '\r\n  <Response>\r\n    <Result Code="180" Leg="Destination">Ringing destination</Result>\r\n  </Response>\r\n' +
  TAIL +
  HEAD +
  '\r\n  <Response>\r\n    <Result Code="200" Leg="Destination">Connected to destination</Result>\r\n  </Response>\r\n' +
  TAIL;

test('the manual example: the whole byte stream of a successful call', async () => {
  const seen: XmlCallRequest[] = [];
  const { server, port } = await start(successHandler(seen));
  try {
    const client = await Client.open(port);
    client.send(REQUEST);
    await client.answers(5);
    assert.deepEqual(client.bytes, Buffer.from(SUCCESS_STREAM, 'utf8'));
    assert.equal(seen.length, 1);
    // When its bytes were read (the setup-latency metric): on performance.now()'s clock, before now.
    const { receivedAt, ...request } = seen[0]!;
    assert.ok(typeof receivedAt === 'number' && receivedAt > 0 && receivedAt <= performance.now(), `receivedAt ${receivedAt}`);
    assert.deepEqual(request, {
      initiator: 'sip:scott@sipdomain.com',
      destination: '9055551234',
      anchor: false,
      client: { address: '127.0.0.1', port: client.socket.localPort },
    });
    assert.equal(server.counters.documents, 1);
    assert.equal(server.counters.internalErrors, 0);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test('several requests on one connection, pipelined and later', async () => {
  const handler: XmlRequestHandler = {
    submit(req, sink) {
      if (req.destination === 'nowhere') {
        sink.result({ code: 400, text: `No translation rule for either initiator ${req.initiator} or destination ${req.destination}` });
        return;
      }
      sink.result({ code: 100, text: 'In progress', translatedInitiator: `sip:${req.initiator}@h`, translatedDestination: `sip:${req.destination}@h` });
      sink.result({ code: 486, leg: 'Destination', text: 'Failed to connect to destination' });
    },
  };
  const { server, port } = await start(handler);
  try {
    const client = await Client.open(port);
    client.send(request('a', 'b') + '\r\n' + request('c', 'nowhere'));
    await client.answers(3);
    client.send(request('e', 'f'));
    const text = await client.answers(5);
    assert.equal(
      text,
      '<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination></Request>\r\n  <Response>\r\n' +
        '    <TranslatedInitiator>sip:a@h</TranslatedInitiator>\r\n    <TranslatedDestination>sip:b@h</TranslatedDestination>\r\n' +
        '    <Result Code="100">In progress</Result>\r\n  </Response>\r\n</ClickToCall>' +
        '<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination></Request>\r\n  <Response>\r\n' +
        '    <Result Code="486" Leg="Destination">Failed to connect to destination</Result>\r\n  </Response>\r\n</ClickToCall>' +
        '<ClickToCall><Request><Initiator>c</Initiator><Destination>nowhere</Destination></Request>\r\n  <Response>\r\n' +
        '    <Result Code="400">No translation rule for either initiator c or destination nowhere</Result>\r\n  </Response>\r\n</ClickToCall>' +
        '<ClickToCall><Request><Initiator>e</Initiator><Destination>f</Destination></Request>\r\n  <Response>\r\n' +
        '    <TranslatedInitiator>sip:e@h</TranslatedInitiator>\r\n    <TranslatedDestination>sip:f@h</TranslatedDestination>\r\n' +
        '    <Result Code="100">In progress</Result>\r\n  </Response>\r\n</ClickToCall>' +
        '<ClickToCall><Request><Initiator>e</Initiator><Destination>f</Destination></Request>\r\n  <Response>\r\n' +
        '    <Result Code="486" Leg="Destination">Failed to connect to destination</Result>\r\n  </Response>\r\n</ClickToCall>',
    );
    assert.equal(server.counters.documents, 3);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test('a malformed document, garbage, then good documents on the same connection', async () => {
  const handler: XmlRequestHandler = {
    submit(_req, sink) {
      sink.result({ code: 603, leg: 'Initiator', text: 'Failed to connect to initiator' });
    },
  };
  const { server, port } = await start(handler);
  try {
    const client = await Client.open(port);
    client.send(Buffer.from([0x00, 0x9f, 0xff, 0x0a]));
    client.send('<ClickToCall><Request><Initiator>a</Destination></Request></ClickToCall>\n');
    client.send(request('a', 'b'));
    await client.answers(3);
    client.send('<Other><Request></Request></Other>');
    const text = await client.answers(4);
    assert.equal(
      text,
      '<Response>\r\n    <Result Code="400">Parse error</Result>\r\n</Response>' +
        '<Response>\r\n    <Result Code="400">Parse error</Result>\r\n</Response>' +
        '<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination></Request>\r\n  <Response>\r\n' +
        '    <Result Code="603" Leg="Initiator">Failed to connect to initiator</Result>\r\n  </Response>\r\n</ClickToCall>' +
        '<Other><Request></Request>\r\n  <Response>\r\n    <Result Code="400">Unknown method</Result>\r\n  </Response>\r\n</Other>',
    );
    assert.equal(server.counters.errors, 3);
    assert.equal(client.closed, false);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test('a client that disconnects mid-call: later results are harmless no-ops', async () => {
  let sink: XmlResultSink | undefined;
  const { server, port } = await start({
    submit(_req, s) {
      sink = s;
      s.result({ code: 100, text: 'In progress' });
    },
  });
  try {
    const client = await Client.open(port);
    client.send(REQUEST);
    await client.answers(1);
    client.socket.destroy();
    // The server cannot tell a vanished client from one that only half-closed: the first
    // writes after the disconnect fail and close the connection. The sink must not mind.
    await waitFor(() => {
      sink!.result({ code: 180, leg: 'Initiator', text: 'Ringing initiator' });
      return server.counters.connections === 0;
    }, 'the server to see the disconnect');
    assert.doesNotThrow(() => {
      sink!.result({ code: 200, leg: 'Initiator', text: 'Connected to initiator' });
      sink!.result({ code: 200, leg: 'Destination', text: 'Connected to destination' });
      sink!.result({ code: 200, leg: 'Destination', text: 'Connected to destination' });
    });
    assert.equal(server.counters.internalErrors, 0);
  } finally {
    await server.close();
  }
});

test('beyond maxConnections the oldest connection is closed', async () => {
  const { server, port } = await start(successHandler(), { maxConnections: 2 });
  try {
    const first = await Client.open(port);
    await waitFor(() => server.counters.accepted === 1, 'first accepted');
    const second = await Client.open(port);
    await waitFor(() => server.counters.accepted === 2, 'second accepted');
    const third = await Client.open(port);
    await waitFor(() => first.closed, 'the oldest connection to close');
    assert.equal(server.counters.evicted, 1);
    assert.equal(second.closed, false);
    second.send(REQUEST);
    third.send(REQUEST);
    await second.answers(5);
    await third.answers(5);
    assert.equal(third.text, SUCCESS_STREAM);
    assert.equal(server.counters.connections, 2);
    second.socket.destroy();
    third.socket.destroy();
  } finally {
    await server.close();
  }
});

test('a source refused by allowFrom is closed at once and counted', async () => {
  const asked: string[] = [];
  let submitted = 0;
  const { server, port } = await start(
    { submit: () => void submitted++ },
    { allowFrom: (address) => (asked.push(address), address !== '127.0.0.1') },
  );
  try {
    const client = await Client.open(port);
    client.send(REQUEST);
    await waitFor(() => client.closed, 'the refused connection to close');
    assert.equal(client.bytes.length, 0);
    assert.deepEqual(asked, ['127.0.0.1']);
    assert.equal(server.counters.refused, 1);
    assert.equal(server.counters.accepted, 0);
    assert.equal(submitted, 0);
  } finally {
    await server.close();
  }
});

test('too many open requests on one connection: 503 with the echo', async () => {
  const { server, port } = await start({ submit: () => {} }, { maxOpenRequestsPerConnection: 1 });
  try {
    const client = await Client.open(port);
    client.send(request('a', 'b') + request('c', 'd'));
    const text = await client.answers(1);
    assert.equal(
      text,
      '<ClickToCall><Request><Initiator>c</Initiator><Destination>d</Destination></Request>\r\n  <Response>\r\n' +
        '    <Result Code="503">Refused: too many requests on this connection</Result>\r\n  </Response>\r\n</ClickToCall>',
    );
    assert.equal(server.counters.refusedRequests, 1);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test('a bad secret is refused with 403 and the secret is not echoed', async () => {
  let submitted = 0;
  const { server, port } = await start({ submit: () => void submitted++ }, { secret: 'hunter2' });
  try {
    const client = await Client.open(port);
    client.send('<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination>\n<Secret>hunter3</Secret></Request></ClickToCall>');
    const text = await client.answers(1);
    assert.equal(
      text,
      '<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination></Request>\r\n  <Response>\r\n' +
        '    <Result Code="403">Refused: bad secret</Result>\r\n  </Response>\r\n</ClickToCall>',
    );
    client.send('<ClickToCall><Request><Initiator>a</Initiator><Destination>b</Destination><Secret> hunter2 </Secret></Request></ClickToCall>');
    await waitFor(() => submitted === 1, 'the good request to be submitted');
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test('a document over the size limit: 400, then the connection is closed', async () => {
  const { server, port } = await start({ submit: () => {} }, { maxDocumentSize: 64 });
  try {
    const client = await Client.open(port);
    client.send(request('a'.repeat(40), 'b'));
    await waitFor(() => client.ended && client.closed, 'the connection to close');
    assert.equal(client.text, '<Response>\r\n    <Result Code="400">Document too large</Result>\r\n</Response>');
  } finally {
    await server.close();
  }
});

test('a client that half-closes still gets every result, then the server ends', async () => {
  const { server, port } = await start(successHandler());
  try {
    const client = await Client.open(port);
    client.socket.end(REQUEST);
    await waitFor(() => client.ended, 'the server to end the connection');
    assert.equal(client.text, SUCCESS_STREAM);
  } finally {
    await server.close();
  }
});

class ManualTimers implements XmlTimers {
  readonly pending = new Map<number, () => void>();
  #next = 1;
  setTimeout(callback: () => void): unknown {
    const id = this.#next++;
    this.pending.set(id, callback);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const due = [...this.pending.entries()];
    this.pending.clear();
    for (const [, callback] of due) callback();
  }
}

test('the idle timeout closes a quiet connection, never one with a call in progress', async () => {
  const timers = new ManualTimers();
  let sink: XmlResultSink | undefined;
  const { server, port } = await start(
    { submit: (_req, s) => void (sink = s) },
    { idleTimeoutMs: 30_000, timers, closeGraceMs: 1000 },
  );
  try {
    const busy = await Client.open(port);
    busy.send(REQUEST);
    await waitFor(() => sink !== undefined, 'the request');
    const quiet = await Client.open(port);
    await waitFor(() => server.counters.accepted === 2, 'both accepted');
    timers.fireAll();
    await waitFor(() => quiet.ended, 'the quiet connection to end');
    assert.equal(busy.ended, false);
    sink!.result({ code: 486, leg: 'Destination', text: 'Failed to connect to destination' });
    await busy.answers(1);
    timers.fireAll(); // now idle too
    await waitFor(() => busy.ended, 'the busy connection to end once idle');
    assert.equal(server.counters.internalErrors, 0);
  } finally {
    await server.close();
  }
});

test('a client that does not read its answers is dropped at the write-buffer limit', async () => {
  const big = 'x'.repeat(100_000);
  const { server, port } = await start(
    {
      submit(_req, sink) {
        for (let n = 0; n < 300; n++) sink.result({ code: 180, leg: 'Initiator', text: big });
      },
    },
    { maxWriteBufferBytes: 256 * 1024 },
  );
  try {
    const client = await Client.open(port);
    client.socket.pause();
    client.send(REQUEST);
    await waitFor(() => server.counters.connections === 0 && server.counters.accepted === 1, 'the server to drop the client');
    assert.equal(server.counters.internalErrors, 0);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test('listens on IPv4 and IPv6 loopback on one port; close() ends connections', async () => {
  const server = new XmlServer({ hosts: ['127.0.0.1', '::1'], port: 0 }, successHandler());
  const addresses = await server.listen();
  assert.equal(addresses.length, 2);
  assert.equal(addresses[0]!.port, addresses[1]!.port);
  assert.deepEqual(addresses.map((a) => a.family), ['IPv4', 'IPv6']);
  const v6 = await Client.open(addresses[1]!.port, '::1');
  v6.send(REQUEST);
  await v6.answers(5);
  assert.equal(v6.text, SUCCESS_STREAM);
  const v4 = await Client.open(addresses[0]!.port);
  await waitFor(() => server.counters.connections === 2, 'both connections');
  await server.close();
  await waitFor(() => v4.closed && v6.closed, 'connections closed by close()');
});
