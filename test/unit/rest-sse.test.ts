import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { auth, restFixture, type RestFixture } from '../support/rest-fixture.js';
import { EventLog } from '../../src/api/rest/event-log.js';
import type { CallRecord } from '../../src/store/record.js';

interface Frame {
  id?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

/** A minimal EventSource over a real socket: frames as they arrive, and the end of the stream. */
class SseClient {
  readonly frames: Frame[] = [];
  status = 0;
  contentType = '';
  ended = false;
  private buffer = '';
  private waiters: (() => void)[] = [];
  private req: ClientRequest;

  constructor(port: number, path: string, headers: Record<string, string> = {}) {
    this.req = httpRequest({ host: '127.0.0.1', port, path, headers: { ...auth, accept: 'text/event-stream', ...headers } }, (res: IncomingMessage) => {
      this.status = res.statusCode ?? 0;
      this.contentType = String(res.headers['content-type']);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.buffer += chunk;
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          const frame: Frame = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) frame.comment = line.slice(1).trim();
            else {
              const colon = line.indexOf(':');
              const field = line.slice(0, colon);
              const value = line.slice(colon + 1).replace(/^ /, '');
              (frame as Record<string, string>)[field] = value;
            }
          }
          this.frames.push(frame);
        }
        this.wake();
      });
      res.on('end', () => {
        this.ended = true;
        this.wake();
      });
      this.wake();
    });
    this.req.on('error', () => {});
    this.req.end();
  }

  get events(): { id: string; event: Record<string, unknown> }[] {
    return this.frames.filter((f) => f.data !== undefined).map((f) => ({ id: f.id ?? '', event: JSON.parse(f.data!) }));
  }

  /** Waits (at most 2 s) until `ok()` holds. */
  async until(ok: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.req.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

async function listening(f: RestFixture): Promise<number> {
  const [bound] = await f.server.listen();
  return bound!.port;
}

async function place(f: RestFixture, destination = '1002'): Promise<string> {
  const res = await f.server.app.inject({
    method: 'POST', url: '/v1/calls', headers: { 'content-type': 'application/json', ...auth }, payload: { initiator: '1001', destination },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function noListeners(f: RestFixture): Promise<void> {
  const deadline = Date.now() + 2000;
  while (f.events.listenerCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(f.events.listenerCount, 0, 'every SSE listener is gone after the disconnect');
}

test('GET /v1/events: text/event-stream, id + one data line per event, heartbeat, cleanup on disconnect', async () => {
  const f = restFixture({ hosts: ['127.0.0.1'] });
  const port = await listening(f);
  const client = new SseClient(port, '/v1/events');
  await client.until(() => f.events.listenerCount === 1 && client.frames.length > 0, 'the stream to open');
  assert.equal(client.status, 200);
  assert.match(client.contentType, /^text\/event-stream/);
  assert.equal(client.frames[0]?.retry, '3000');
  const id = await place(f);
  f.engine.emit(id, 'ringing', 'initiator', 180, 'Ringing initiator');
  await client.until(() => client.events.length === 2, 'two events');
  const [first, second] = client.events;
  assert.equal(first!.event.kind, 'initiated');
  assert.equal(first!.event.callId, id);
  assert.equal(first!.event.translatedInitiator, 'sip:1001@example.com');
  assert.equal(second!.event.kind, 'ringing');
  assert.equal(Number(second!.id), Number(first!.id) + 1, 'one global increasing id');
  // Heartbeat comment every 15 s (fake clock).
  f.clock.advance(15_000);
  await client.until(() => client.frames.some((fr) => fr.comment === 'ping'), 'a heartbeat');
  client.close();
  await noListeners(f);
  assert.equal(f.publisher.callSubscriptions, 0);
  assert.equal(f.clock.pending(), 0, 'the heartbeat timer is cleared');
  await f.close();
});

test('Last-Event-ID resumes after the last event seen; a gap beyond the ring is announced', async () => {
  const f = restFixture({ hosts: ['127.0.0.1'], ringSize: 4 });
  const port = await listening(f);
  const a = new SseClient(port, '/v1/events');
  await a.until(() => f.events.listenerCount === 1, 'the stream to open');
  const id = await place(f);
  await a.until(() => a.events.length === 1, 'the first event');
  const lastSeen = a.events[0]!.id;
  a.close();
  await noListeners(f);
  // Missed while disconnected:
  f.engine.emit(id, 'ringing', 'initiator', 180, 'Ringing initiator');
  f.engine.emit(id, 'answered', 'initiator', 200, 'Connected to initiator');
  const b = new SseClient(port, '/v1/events', { 'last-event-id': lastSeen });
  await b.until(() => b.events.length === 2, 'the two missed events');
  assert.deepEqual(b.events.map((e) => e.event.kind), ['ringing', 'answered']);
  assert.equal(b.frames.some((fr) => fr.comment?.includes('no longer held')), false);
  // Live events follow the replay.
  f.engine.emit(id, 'connected', 'destination', 200, 'Connected to destination');
  await b.until(() => b.events.length === 3, 'the live event');
  b.close();
  await noListeners(f);
  // The ring holds 4 events: the first ones are gone for a client that was away long.
  for (let i = 0; i < 4; i++) await place(f);
  const c = new SseClient(port, '/v1/events', { 'last-event-id': lastSeen });
  await c.until(() => c.events.length === 4, 'what the ring still holds');
  assert.ok(c.frames.some((fr) => fr.comment?.includes('no longer held')));
  c.close();
  await noListeners(f);
  await f.close();
});

test('GET /v1/calls/{id}/events replays the call, follows it, ends after its last event; 404 unknown', async () => {
  const f = restFixture({ hosts: ['127.0.0.1'] });
  const port = await listening(f);
  const id = await place(f);
  const other = await place(f, '1003');
  f.engine.emit(id, 'ringing', 'initiator', 180, 'Ringing initiator');
  const client = new SseClient(port, `/v1/calls/${id}/events`);
  await client.until(() => client.events.length === 2, 'the replay');
  f.engine.emit(other, 'ringing', 'initiator', 180, 'Ringing initiator');
  f.engine.emit(id, 'answered', 'initiator', 200, 'Connected to initiator');
  f.engine.emit(id, 'failed', 'destination', 486, 'Failed to connect to destination', { reason: 'destination-failed' });
  await client.until(() => client.ended, 'the end of the stream');
  assert.deepEqual(client.events.map((e) => e.event.kind), ['initiated', 'ringing', 'answered', 'failed']);
  assert.ok(client.events.every((e) => e.event.callId === id));
  await noListeners(f);
  // An ended call: the replay, then the end at once.
  const late = new SseClient(port, `/v1/calls/${id}/events`);
  await late.until(() => late.ended, 'the end of the stream');
  assert.equal(late.events.length, 4);
  const missing = new SseClient(port, '/v1/calls/none/events');
  await missing.until(() => missing.ended, 'the answer');
  assert.equal(missing.status, 404);
  await noListeners(f);
  await f.close();
});

test('GET /v1/calls/{id}/events of a call the store answers for (no history entry): the ring\'s ids, and a reconnect repeats nothing', async () => {
  const { applyEvent, recordFromEvent } = await import('../../src/store/record.js');
  const records = new Map<string, CallRecord>();
  let clockNow = () => 0;
  const events = new EventLog({ now: () => clockNow(), historyForAll: false });
  const f = restFixture({ hosts: ['127.0.0.1'], events, store: { get: (id) => records.get(id), list: () => ({ records: [] }) } });
  clockNow = () => f.clock.now();
  f.publisher.subscribe((e) => {
    let r = records.get(e.callId);
    if (!r) records.set(e.callId, (r = recordFromEvent(e)));
    applyEvent(r, e);
  });
  const port = await listening(f);
  // Placed through another interface: the engine has it, the REST layer never described it.
  f.engine.start({ id: 'xml-1', rawInitiator: '1001', rawDestination: '1002', initiator: 'sip:1001@example.com', destination: 'sip:1002@example.com',
    mode: 'refer', options: {} as never, client: { address: '127.0.0.1', port: 1, trigger: 'xml' } });
  f.engine.emit('xml-1', 'ringing', 'initiator', 180, 'Ringing initiator');
  assert.equal(events.call('xml-1'), undefined, 'no history entry with a store');
  const first = new SseClient(port, '/v1/calls/xml-1/events');
  await first.until(() => first.events.length === 2, 'the replay');
  assert.ok(first.events.every((e) => /^[0-9]+$/.test(e.id)), `ids from the ring: ${JSON.stringify(first.events)}`);
  first.close();
  await noListeners(f);
  const again = new SseClient(port, '/v1/calls/xml-1/events', { 'last-event-id': first.events[0]!.id });
  f.engine.emit('xml-1', 'answered', 'initiator', 200, 'Connected to initiator');
  f.engine.emit('xml-1', 'failed', 'destination', 486, 'Failed to connect to destination', { reason: 'busy' });
  await again.until(() => again.ended, 'the end of the stream');
  assert.deepEqual(again.events.map((e) => e.event.seq), [2, 3, 4], 'after the Last-Event-ID only');
  await f.close();
});

test('closing the server ends open streams', async () => {
  const f = restFixture({ hosts: ['127.0.0.1'] });
  const port = await listening(f);
  const client = new SseClient(port, '/v1/events');
  await client.until(() => f.events.listenerCount === 1, 'the stream to open');
  const started = Date.now();
  await f.close();
  await client.until(() => client.ended, 'the end of the stream');
  assert.ok(Date.now() - started < 900, 'without waiting for the close grace time');
  assert.equal(f.events.listenerCount, 0);
});
