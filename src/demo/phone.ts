/**
 * A simulated phone for `npm run demo` (and nothing else): it rings, answers with an SDP of its
 * own, accepts re-INVITEs, carries out REFERs by calling the target (NOTIFYs back), and hangs up
 * on request. Built on our SIP stack, on loopback.
 */
import { startSipEndpoint, type SipEndpoint } from '../sip/stack/index.js';
import type { InviteSession } from '../sip/dialog/invite-session.js';

export class DemoPhone {
  readonly calls = new Set<InviteSession>();

  private constructor(readonly name: string, readonly uri: string, private readonly ep: SipEndpoint, private readonly mediaPort: number) {}

  static async start(name: string, port: number, mediaPort: number, log: (line: string) => void): Promise<DemoPhone> {
    const ep = await startSipEndpoint({ listeners: [{ transport: 'udp', address: '127.0.0.1', port }], userAgent: `demo-${name}` });
    const phone = new DemoPhone(name, `sip:${name}@127.0.0.1:${ep.bound[0]!.port}`, ep, mediaPort);
    const stack = ep.stack;
    stack.onRequest('INVITE', (req, tx) => {
      const srv = stack.inviteServer(req, tx);
      log(`${name}: INVITE from ${req.from.uri} — ringing`);
      srv.progress(180);
      setTimeout(() => {
        const session = srv.accept({ body: phone.sdp() });
        if (!session) return;
        log(`${name}: answered`);
        phone.track(session, log);
      }, 700);
    });
    // No handler for out-of-dialog REFER: the stack refuses it (405), as most desk phones do, and
    // the server then calls the phone first (ood-refer falls back to INVITE-then-REFER).
    return phone;
  }

  private sdp(): string {
    return `v=0\r\no=${this.name} 1 1 IN IP4 127.0.0.1\r\ns=${this.name}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${this.mediaPort} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
  }

  private track(session: InviteSession, log: (line: string) => void): void {
    this.calls.add(session);
    session.handler = {
      onReinvite: (ri) => ri.respond(200, { body: this.sdp() }),
      onBye: () => log(`${this.name}: the other side hung up`),
      onTerminated: () => this.calls.delete(session),
      onRefer: (req, _tx, accept) => {
        const notifier = accept();
        notifier.accept();
        const target = req.referTo!.uri;
        log(`${this.name}: REFER — calling ${target} myself`);
        const invite = this.ep.stack.createRequest('INVITE', target, `<${this.uri}>`, `<${target}>`);
        invite.setBody(this.sdp(), 'application/sdp');
        this.ep.stack.invite(invite, {
          onProgress: (res) => notifier.notify(res.status, res.reason),
          onAnswer: (_res, s, seq) => {
            s.ack(seq);
            notifier.notify(200, 'OK');
            this.track(s, log);
          },
          onFailure: (status) => notifier.notify(status, 'Failed'),
        });
      },
    };
  }

  hangupAll(): void {
    for (const s of this.calls) s.bye();
  }

  close(): Promise<void> {
    return this.ep.close();
  }
}
