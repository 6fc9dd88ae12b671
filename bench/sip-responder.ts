/**
 * Child process: the UAS under test. A SIP endpoint on UDP 127.0.0.1 that answers every INVITE
 * with 180 then 200 (with an SDP answer) and lets the stack answer BYE (200) and OPTIONS (200, §11.2).
 * Default RFC 3261 timers, as deployed: wait states (Timers I, J, L) keep their real lengths.
 */
import { startSipEndpoint } from '../src/sip/stack/index.js';
import { serveChild } from './child.js';
import { answerSdp } from './sip-messages.js';

const counters = { invites: 0, acks: 0, byes: 0, retransmissions: 0, internalErrors: 0, parseErrors: 0 };
const ep = await startSipEndpoint({
  listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
  userAgent: 'clicktocall-bench-uas',
  onEvent: (e) => {
    if (e.type === 'retransmission') counters.retransmissions++;
    else if (e.type === 'internal-error') counters.internalErrors++;
    else if (e.type === 'parse-error') counters.parseErrors++;
  },
});
const sdp = answerSdp();

ep.stack.onRequest('INVITE', (req, tx) => {
  counters.invites++;
  const server = ep.stack.inviteServer(req, tx);
  server.progress(180);
  const session = server.accept({ body: sdp, contentType: 'application/sdp' });
  if (session) {
    session.handler = {
      onAck: () => void counters.acks++,
      onBye: () => void counters.byes++,
    };
  }
});

const port = ep.bound.find((b) => b.transport === 'udp')!.port;
serveChild(
  { type: 'ready', port },
  (m) => ({ type: m.type, ...counters, stack: { ...ep.stack.counters }, live: ep.stack.counts() }),
  () => ep.close(),
);
