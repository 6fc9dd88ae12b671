/**
 * The raw Node UDP round-trip rate: a windowed sender (a fixed number of ~500-byte datagrams in
 * flight) against the echo child. Each reply releases the next datagram. A datagram lost on the
 * way (buffer overflow) would shrink the window for ever, so a stall watchdog refills it and
 * counts the loss. Bounded by count and by time.
 */
import { createSocket, type Socket } from 'node:dgram';
import { median, nowMs } from './stats.js';

export interface EchoBudget {
  rounds: number;
  window: number;
  datagramBytes: number;
  maxRoundTrips: number;
  roundMs: number;
  warmupRoundTrips: number;
}

export interface EchoRound {
  roundTrips: number;
  lost: number;
  elapsedMs: number;
  /** Round trips per second. */
  roundTripsPerSec: number;
  /** Datagrams on the wire per second, both directions (2 per round trip) — comparable to SIP messages/s. */
  datagramsPerSec: number;
}

export interface EchoResult {
  window: number;
  datagramBytes: number;
  rounds: EchoRound[];
  medianRoundTripsPerSec: number;
  medianDatagramsPerSec: number;
  lost: number;
}

const BUFFER_BYTES = 4 * 1024 * 1024;
/** No reply for this long while datagrams are in flight: they are lost. */
const STALL_MS = 200;

export async function runEchoBench(port: number, budget: EchoBudget): Promise<EchoResult> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {}); // a send error shows up as a lost datagram
  try {
    socket.setRecvBufferSize(BUFFER_BYTES);
    socket.setSendBufferSize(BUFFER_BYTES);
  } catch {
    // the default buffers still work
  }
  try {
    await oneRound(socket, port, budget, 0, budget.warmupRoundTrips, budget.roundMs);
    const rounds: EchoRound[] = [];
    for (let r = 1; r <= budget.rounds; r++) rounds.push(await oneRound(socket, port, budget, r, budget.maxRoundTrips, budget.roundMs));
    return {
      window: budget.window,
      datagramBytes: budget.datagramBytes,
      rounds,
      medianRoundTripsPerSec: median(rounds.map((r) => r.roundTripsPerSec)),
      medianDatagramsPerSec: median(rounds.map((r) => r.datagramsPerSec)),
      lost: rounds.reduce((n, r) => n + r.lost, 0),
    };
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

function oneRound(socket: Socket, port: number, budget: EchoBudget, round: number, maxRoundTrips: number, roundMs: number): Promise<EchoRound> {
  return new Promise((resolve) => {
    // The first byte names the round: a straggler of an earlier round is not counted in this one.
    const payload = Buffer.alloc(budget.datagramBytes, 0x61);
    payload[0] = round & 0xff;
    let sent = 0;
    let received = 0;
    let lost = 0;
    let lastReply = nowMs();
    const start = nowMs();
    const deadline = start + roundMs;
    let stopped = false;
    let done = false;

    const inFlight = () => sent - received - lost;
    const mayStart = () => !stopped && sent < maxRoundTrips;
    const send = () => {
      sent++;
      socket.send(payload, port, '127.0.0.1');
    };
    const finish = () => {
      if (done) return;
      done = true;
      socket.off('message', onMessage);
      clearInterval(watchdog);
      const elapsedMs = nowMs() - start;
      resolve({
        roundTrips: received,
        lost,
        elapsedMs,
        roundTripsPerSec: (received * 1000) / elapsedMs,
        datagramsPerSec: (2 * received * 1000) / elapsedMs,
      });
    };
    const onMessage = (msg: Buffer) => {
      if (msg[0] !== payload[0]) return;
      received++;
      lastReply = nowMs();
      if ((received & 63) === 0 && lastReply >= deadline) stopped = true;
      if (mayStart()) send();
      else if (inFlight() <= 0) finish();
    };
    const watchdog = setInterval(() => {
      const now = nowMs();
      if (now >= deadline) stopped = true;
      if (inFlight() > 0 && now - lastReply > STALL_MS) {
        // Whatever is still out after a stall is gone: count it, and refill the window.
        lost += inFlight();
        lastReply = now;
        if (stopped || now > deadline + 2000) {
          finish();
          return;
        }
        for (let i = 0; i < budget.window && mayStart(); i++) send();
      }
      if (inFlight() <= 0 && !mayStart()) finish();
    }, 50);
    // Stop on time (checked per 64 replies and by the watchdog), or when the count is reached.
    socket.on('message', onMessage);
    for (let i = 0; i < budget.window && mayStart(); i++) send();
  });
}
