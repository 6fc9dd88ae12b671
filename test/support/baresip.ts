// A real baresip 1.0 phone on 127.0.0.1 for wire tests, driven over its ctrl_tcp socket.
//
// ctrl_tcp wire format (seen on baresip 1.0.0 from Debian): netstrings, `LEN:JSON,` with LEN the
// byte length of JSON, in both directions, on one TCP connection (a new connection replaces the
// old one). Commands are the menu's long commands without the slash:
//   → {"command":"dial","params":"sip:b@127.0.0.1:25171","token":"t1"}
//   ← {"response":true,"ok":true,"data":"","token":"t1"}
//   ← {"response":true,"ok":false,"data":"command not found (nosuchcmd)\n","token":"t3"}
// Every UA event is pushed on the same connection, in order, e.g.
//   {"event":true,"type":"CALL_RINGING","class":"call","accountaor":"sip:a@127.0.0.1:25161",
//    "direction":"outgoing","peeruri":"sip:b@127.0.0.1:25171;transport=udp",
//    "id":"e2c3326eca6a12cc","param":"sip:b@127.0.0.1:25171;transport=udp"}
//   CALL_ESTABLISHED: same fields, param = peer URI.
//   CALL_CLOSED: param = reason: "Connection reset by user" (we hung up), "Connection reset by
//     peer" (BYE received), "Call transfered" (we were the transferor).
//   TRANSFER (on the transferee): direction/peeruri/id of the call that carried the REFER,
//     param = the Refer-To URI.
//   Also CALL_INCOMING (manual answer only), CALL_LOCAL_SDP / CALL_REMOTE_SDP (class "other",
//   param "offer"/"answer"; the first LOCAL_SDP of an outgoing call has no id yet), CALL_RTPESTAB
//   (class "other", param "audio"), CALL_RTCP (param "audio", plus rtcp_stats), and on quit
//   SHUTDOWN and EXIT (class "application", no call fields). `id` is the SIP Call-ID.
// Events raised while no client is connected are lost, so start() connects before returning.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeToneWav, requireCommand } from './prerequisites.js';

export type BaresipTransport = 'udp' | 'tcp';

export interface BaresipPhoneOptions {
  /** User part of the phone's AOR, and of its temp folder's name. */
  name: string;
  /** SIP port (UDP+TCP; baresip also binds TLS on port+1). Default: a free pair chosen by the OS. */
  sipPort?: number;
  /** Transport of the account: a phone dials over this transport only. Default udp. */
  transport?: BaresipTransport;
  /** auto: answers every INVITE at once; manual: rings until answer(). Default auto. */
  answerMode?: 'auto' | 'manual';
  ctrlPort?: number;
  /** Appended to the generated config (later lines win in baresip's config). */
  extraConfig?: string;
  /** baresip -t: it quits by itself after this many seconds, a backstop for a crashed test. Default 60. */
  timeoutSec?: number;
  /** baresip -s: SIP messages in the log. Default true. */
  sipTrace?: boolean;
  /** 8 kHz mono WAV for the audio source. Default: one made by sox, shared per test process. */
  toneWav?: string;
}

/** A pushed ctrl_tcp event; see the format notes at the top of this file. */
export interface BaresipEvent {
  event: true;
  type: string;
  class?: string;
  accountaor?: string;
  direction?: 'incoming' | 'outgoing';
  peeruri?: string;
  /** SIP Call-ID of the call. */
  id?: string;
  param?: string;
  [field: string]: unknown;
}

export interface BaresipResponse {
  response: true;
  ok: boolean;
  data: string;
  token: string;
}

export type EventMatch = string | ((event: BaresipEvent) => boolean);

interface Waiter {
  probe: () => boolean;
  fail: (error: Error) => void;
}

interface PendingCommand {
  resolve: (response: BaresipResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const HOST = '127.0.0.1';
const START_TRIES = 4;
const READY_TIMEOUT_MS = 5_000;
const CTRL_CONNECT_TRIES = 40;
const COMMAND_TIMEOUT_MS = 5_000;
const MAX_NETSTRING = 1 << 20;
const RTP_RANGE_WIDTH = 20;
const DIAGNOSTIC_LOG_LINES = 40;
// ANSI colour codes; baresip 1.0 also emits the odd `ESC[;m`.
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
// The call status line, redrawn with a bare CR every few hundred ms while a call is up; other
// output sometimes follows it on the same line, so only the status itself is cut out.
const STATUS_LINE = /\[\d+:\d\d:\d\d\] audio=[^\r\n]*?\(bit\/s\)\s*/g;
const RTP_FROM = /stream: incoming rtp for 'audio' established, receiving from (\S+)/g;

/** A bind clash seen at start; start() retries with fresh ports. */
class PortClashError extends Error {}

export class BaresipPhone {
  readonly name: string;
  readonly port: number;
  readonly ctrlPort: number;
  readonly transport: BaresipTransport;
  /** RTP/RTCP ports baresip may pick from (it binds 0.0.0.0:even port in [min, max)). */
  readonly rtpPorts: { min: number; max: number };
  readonly dir: string;
  /** Every pushed event, in arrival order. */
  readonly events: BaresipEvent[] = [];

  private readonly logLines: string[] = [];
  private readonly partial = { stdout: '', stderr: '' };
  private readonly waiters = new Set<Waiter>();
  private readonly pending = new Map<string, PendingCommand>();
  private child: ChildProcess | undefined;
  private exit: { code: number | null; signal: string | null; error?: Error } | undefined;
  private ctrl: Socket | undefined;
  private inbound: Buffer = Buffer.alloc(0);
  private nextToken = 0;
  private stopping: Promise<void> | undefined;
  // A test runner that dies before its `after` hooks must not leave phones behind.
  private readonly killOnExit = (): void => {
    if (this.child && !this.exit) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  };

  private constructor(
    opts: BaresipPhoneOptions,
    port: number,
    ctrlPort: number,
    rtpPorts: { min: number; max: number },
    private readonly toneWav: string,
  ) {
    this.name = opts.name;
    this.port = port;
    this.ctrlPort = ctrlPort;
    this.rtpPorts = rtpPorts;
    this.transport = opts.transport ?? 'udp';
    this.dir = mkdtempSync(join(tmpdir(), `baresip-${opts.name}-`));
    this.writeFolder(opts);
  }

  static async start(opts: BaresipPhoneOptions): Promise<BaresipPhone> {
    const baresip = requireCommand('baresip', 'baresip-core');
    const toneWav = opts.toneWav ?? processToneWav();
    for (let attempt = 1; ; attempt++) {
      const port = opts.sipPort ?? (await findFreeSipPort());
      const ctrlPort = opts.ctrlPort ?? (await findFreeTcpPort());
      const rtpPorts = await findFreeRtpRange();
      const phone = new BaresipPhone(opts, port, ctrlPort, rtpPorts, toneWav);
      try {
        await phone.launch(baresip, opts);
        return phone;
      } catch (error) {
        await phone.stop();
        const portsFixed = opts.sipPort !== undefined && opts.ctrlPort !== undefined;
        if (!(error instanceof PortClashError) || portsFixed || attempt >= START_TRIES) throw error;
      }
    }
  }

  /** The phone's AOR, e.g. `sip:a@127.0.0.1:25161` or `sip:a@127.0.0.1:25161;transport=tcp`. */
  get uri(): string {
    return `sip:${this.name}@${HOST}:${this.port}${this.transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The log so far: stdout and stderr, ANSI escapes and call status lines removed. */
  logText(): string {
    return this.logLines.join('\n');
  }

  /** Sends one ctrl_tcp command; resolves with the response carrying the same token. */
  command(command: string, params = '', timeoutMs = COMMAND_TIMEOUT_MS): Promise<BaresipResponse> {
    const ctrl = this.ctrl;
    if (!ctrl || ctrl.destroyed) return Promise.reject(new Error(`${this.name}: ctrl_tcp is not connected`));
    const token = `t${++this.nextToken}`;
    const json = Buffer.from(JSON.stringify({ command, params, token }));
    return new Promise<BaresipResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(this.diagnosticError(`no response to ctrl command '${command}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      ctrl.write(Buffer.concat([Buffer.from(`${json.length}:`), json, Buffer.from(',')]));
    });
  }

  /**
   * Dials `target`. baresip 1.0's dial appends the account's URI parameters (our
   * `;transport=`) to the target, so a `;transport=` already there is removed first; a target
   * asking for another transport than the phone's is refused.
   */
  async dial(target: string): Promise<BaresipResponse> {
    const wanted = /;transport=([^;?>]*)/i.exec(target)?.[1]?.toLowerCase();
    if (wanted !== undefined && wanted !== this.transport) {
      throw new Error(`${this.name} speaks ${this.transport}: start a ${wanted} phone to dial ${target}`);
    }
    return this.expectOk('dial', target.replace(/;transport=[^;?>]*/gi, ''));
  }

  hangup(): Promise<BaresipResponse> {
    return this.expectOk('hangup');
  }

  /** Answers the ringing call (answerMode 'manual'). */
  answer(): Promise<BaresipResponse> {
    return this.expectOk('accept');
  }

  /** Blind transfer of the current call: REFER to the peer with `Refer-To: <target as given>`. */
  transfer(target: string): Promise<BaresipResponse> {
    return this.expectOk('transfer', target);
  }

  /**
   * The first event from `fromIndex` on that matches (a type such as 'CALL_ESTABLISHED', or a
   * predicate) — already received or still to come. Rejects after `timeoutMs`, or when baresip
   * exits, with the events and the end of the log.
   */
  waitForEvent(match: EventMatch, timeoutMs = 5_000, fromIndex = 0): Promise<BaresipEvent> {
    const matches = typeof match === 'string' ? (e: BaresipEvent) => e.type === match : match;
    const what = typeof match === 'string' ? `event ${match}` : 'a matching event';
    return this.waitUntil(what, timeoutMs, () => this.events.slice(fromIndex).find(matches));
  }

  /** The first log line (past or future) matching `pattern`. */
  waitForLog(pattern: RegExp, timeoutMs = 5_000): Promise<RegExpExecArray> {
    const flags = pattern.flags.replace(/[gy]/g, '');
    const once = new RegExp(pattern.source, flags);
    let checked = 0;
    return this.waitUntil(`log ${pattern}`, timeoutMs, () => {
      for (; checked < this.logLines.length; checked++) {
        const found = once.exec(this.logLines[checked]!);
        if (found) return found;
      }
      return undefined;
    });
  }

  /** `IP:PORT` this phone last reported receiving RTP from, if any. */
  rtpReceivingFrom(): string | undefined {
    return this.rtpSources().at(-1);
  }

  /** Every `IP:PORT` this phone reported receiving RTP from, oldest first. */
  rtpSources(): string[] {
    return [...this.logText().matchAll(RTP_FROM)].map((m) => m[1]!);
  }

  /** quit over ctrl_tcp, then SIGTERM, then SIGKILL; removes the temp folder. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (this.child && !this.exit) {
      if (this.ctrl && !this.ctrl.destroyed) await this.command('quit', '', 1_000).catch(() => undefined);
      if (!(await this.exited(2_000))) {
        this.child.kill('SIGTERM');
        if (!(await this.exited(1_000))) {
          this.child.kill('SIGKILL');
          await this.exited(2_000);
        }
      }
    }
    this.ctrl?.destroy();
    this.failPending(new Error(`${this.name}: stopped`));
    untilExit.delete(this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeFolder(opts: BaresipPhoneOptions): void {
    const config = [
      'poll_method\t\tepoll',
      `sip_listen\t\t${HOST}:${this.port}`,
      `sip_trans_def\t\t${this.transport}`,
      'audio_player\t\taufile,/dev/null',
      // ausine runs at 48 kHz only and then never answers a PCMU-only offer.
      `audio_source\t\taufile,${this.toneWav}`,
      'audio_alert\t\taufile,/dev/null',
      'rtp_tos\t\t\t0',
      `rtp_ports\t\t${this.rtpPorts.min}-${this.rtpPorts.max}`,
      'jitter_buffer_delay\t5-10',
      'rtcp_mux\t\tno',
      // Never ask a real resolver: every URI here is a literal address, but a stray lookup must
      // stay on loopback.
      `dns_server\t\t${HOST}:53`,
      'module_path\t\t/usr/lib/baresip/modules',
      'module\t\t\tg711.so',
      'module\t\t\taufile.so',
      'module_app\t\taccount.so',
      'module_app\t\tcontact.so',
      // menu.so carries out incoming REFERs and provides the dial/hangup/accept/transfer commands.
      'module_app\t\tmenu.so',
      'module_app\t\tctrl_tcp.so',
      `ctrl_tcp_listen\t\t${HOST}:${this.ctrlPort}`,
      // Without it baresip puts the machine's external address in Contact and SDP.
      `net_interface\t\t${HOST}`,
      opts.extraConfig ?? '',
      '',
    ].join('\n');
    const account = `<sip:${this.name}@${HOST}:${this.port};transport=${this.transport}>;regint=0;answermode=${opts.answerMode ?? 'auto'}\n`;
    writeFileSync(join(this.dir, 'config'), config);
    writeFileSync(join(this.dir, 'accounts'), account);
    writeFileSync(join(this.dir, 'contacts'), '');
  }

  private async launch(baresip: string, opts: BaresipPhoneOptions): Promise<void> {
    const args = ['-f', this.dir, '-t', String(opts.timeoutSec ?? 60)];
    if (opts.sipTrace ?? true) args.push('-s');
    const child = spawn(baresip, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    killAtExit(this.killOnExit);
    child.stdout!.on('data', (chunk: Buffer) => this.appendLog('stdout', chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => this.appendLog('stderr', chunk.toString('utf8')));
    child.on('error', (error) => this.markExited({ code: null, signal: null, error }));
    child.on('exit', (code, signal) => this.markExited({ code, signal }));

    try {
      await this.waitForLog(/baresip is ready\./, READY_TIMEOUT_MS);
    } catch (error) {
      if (this.exit?.code === 98 || /Address already in use/.test(this.logText())) {
        throw new PortClashError(`${this.name}: SIP port ${this.port} taken`);
      }
      throw error;
    }
    // ctrl_tcp reports a taken port only in the log and runs on without it: connecting then
    // could reach somebody else's phone.
    if (/ctrl_tcp: failed to listen/.test(this.logText())) {
      throw new PortClashError(`${this.name}: ctrl port ${this.ctrlPort} taken`);
    }
    await this.connectCtrl();
  }

  private async connectCtrl(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.ctrl = await new Promise<Socket>((resolve, reject) => {
          const socket = connect(this.ctrlPort, HOST);
          socket.once('connect', () => {
            socket.off('error', reject);
            resolve(socket);
          });
          socket.once('error', reject);
        });
        break;
      } catch (error) {
        if (attempt >= CTRL_CONNECT_TRIES || this.exit) {
          throw this.diagnosticError(`cannot connect to ctrl_tcp ${HOST}:${this.ctrlPort}: ${(error as Error).message}`);
        }
        await delay(50);
      }
    }
    const ctrl = this.ctrl;
    ctrl.on('data', (chunk: Buffer) => this.readNetstrings(chunk));
    ctrl.on('error', () => undefined); // 'close' follows and fails what is pending
    ctrl.on('close', () => this.failPending(new Error(`${this.name}: ctrl_tcp connection closed`)));
  }

  private readNetstrings(chunk: Buffer): void {
    this.inbound = this.inbound.length ? Buffer.concat([this.inbound, chunk]) : chunk;
    for (;;) {
      const colon = this.inbound.indexOf(0x3a); // ':'
      if (colon < 0) {
        if (this.inbound.length > 10) this.dropCtrl('netstring length too long');
        return;
      }
      const length = Number(this.inbound.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(length) || colon === 0 || length > MAX_NETSTRING) return this.dropCtrl('bad netstring length');
      const end = colon + 1 + length;
      if (this.inbound.length < end + 1) return;
      if (this.inbound[end] !== 0x2c) return this.dropCtrl('netstring without trailing comma'); // ','
      const body = this.inbound.subarray(colon + 1, end).toString('utf8');
      this.inbound = this.inbound.subarray(end + 1);
      this.dispatch(body);
    }
  }

  private dispatch(body: string): void {
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      this.logLines.push(`[harness] ctrl_tcp sent bad JSON: ${body}`);
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const record = message as Record<string, unknown>;
    if (record.response === true && typeof record.token === 'string') {
      const pending = this.pending.get(record.token);
      if (!pending) return;
      this.pending.delete(record.token);
      clearTimeout(pending.timer);
      pending.resolve(record as unknown as BaresipResponse);
    } else if (record.event === true && typeof record.type === 'string') {
      this.events.push(record as BaresipEvent);
      this.checkWaiters();
    }
  }

  private dropCtrl(reason: string): void {
    this.logLines.push(`[harness] ctrl_tcp: ${reason}`);
    this.inbound = Buffer.alloc(0);
    this.ctrl?.destroy();
  }

  private appendLog(stream: 'stdout' | 'stderr', text: string): void {
    let buffered = this.partial[stream] + text;
    // A CR at the end may be half of a CRLF: keep it for the next chunk.
    const cut = Math.max(buffered.lastIndexOf('\n'), buffered.endsWith('\r') ? -1 : buffered.lastIndexOf('\r'));
    if (cut < 0) {
      this.partial[stream] = buffered;
      return;
    }
    this.partial[stream] = buffered.slice(cut + 1);
    buffered = buffered.slice(0, cut);
    for (const raw of buffered.split(/\r\n|\r|\n/)) {
      const clean = raw.replace(ANSI_ESCAPE, '');
      const line = clean.replace(STATUS_LINE, '');
      if (line === '' && clean !== '') continue; // nothing but a status redraw
      this.logLines.push(line);
    }
    this.checkWaiters();
  }

  private markExited(exit: { code: number | null; signal: string | null; error?: Error }): void {
    if (this.exit) return;
    this.exit = exit;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.logLines.push(this.partial[stream].replace(ANSI_ESCAPE, ''));
      this.partial[stream] = '';
    }
    const why = exit.error ? exit.error.message : `code ${exit.code}, signal ${exit.signal}`;
    for (const waiter of [...this.waiters]) waiter.fail(this.diagnosticError(`baresip exited (${why})`));
  }

  private waitUntil<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
    const first = probe();
    if (first !== undefined) return Promise.resolve(first);
    if (this.exit) return Promise.reject(this.diagnosticError(`baresip has exited; wanted ${what}`));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        probe: () => {
          const found = probe();
          if (found === undefined) return false;
          settle();
          resolve(found);
          return true;
        },
        fail: (error) => {
          settle();
          reject(new Error(`${error.message}\nwhile waiting for ${what}`));
        },
      };
      const timer = setTimeout(() => waiter.fail(this.diagnosticError(`timed out after ${timeoutMs} ms`)), timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  private checkWaiters(): void {
    for (const waiter of [...this.waiters]) waiter.probe();
  }

  private exited(timeoutMs: number): Promise<boolean> {
    if (this.exit || !this.child) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.child!.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async expectOk(command: string, params = ''): Promise<BaresipResponse> {
    const response = await this.command(command, params);
    if (!response.ok) throw this.diagnosticError(`ctrl command '${command} ${params}' failed: ${response.data.trim()}`);
    return response;
  }

  private failPending(error: Error): void {
    for (const [token, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(token);
    }
  }

  /** An error carrying what a failing wire test needs: the events and the end of the log. */
  private diagnosticError(message: string): Error {
    const events = this.events
      .filter((e) => e.type !== 'CALL_RTCP')
      .map((e) => `  ${e.type} ${e.direction ?? ''} ${e.peeruri ?? ''} id=${e.id ?? ''} param=${e.param ?? ''}`);
    const tail = this.logLines.slice(-DIAGNOSTIC_LOG_LINES).map((l) => `  ${l}`);
    return new Error(
      `${this.name} (${this.uri}): ${message}\n` +
        `events seen (${events.length}, CALL_RTCP omitted):\n${events.join('\n') || '  (none)'}\n` +
        `last ${tail.length} log lines:\n${tail.join('\n')}`,
    );
  }
}

/**
 * What the process must do when it exits (kill a phone still running, remove its folder): one
 * 'exit' listener for them all — a test file may hold a dozen phones at once, and a listener each
 * made Node warn of a leak.
 */
const untilExit = new Set<() => void>();
let exitHooked = false;
function killAtExit(fn: () => void): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const f of untilExit) f();
    });
  }
  untilExit.add(fn);
}

/** The tone shared by the phones of one test process, removed when the process exits. */
function processToneWav(): string {
  const dir = join(tmpdir(), `clicktocall-baresip-tone-${process.pid}`);
  const fresh = !existsSync(join(dir, 'tone.wav'));
  const wav = makeToneWav(dir);
  if (fresh) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return wav;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Binds UDP host:port (0: any); resolves with the bound port and a closer, or undefined if taken. */
function probeUdp(port: number, host: string): Promise<{ port: number; close: () => void } | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
      resolve(undefined);
    });
    socket.bind(port, host, () => resolve({ port: socket.address().port, close: () => socket.close() }));
  });
}

function probeTcp(port: number, host: string): Promise<{ port: number; close: () => void } | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? { port: address.port, close: () => server.close() } : undefined);
    });
  });
}

/**
 * A server's output saying a port found free was taken before it bound it (TCP's "address already
 * in use", UDP's `bind EADDRINUSE`): start it again on other ports.
 */
export const PORT_TAKEN = /in use|EADDRINUSE/;

/** Ports p, p+1 that are all free where baresip binds them: UDP+TCP p, TCP p+1 (TLS). */
export async function findFreeSipPort(tries = 20): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const udp = await probeUdp(0, HOST);
    if (!udp) continue;
    const p = udp.port;
    const others = p < 65535 ? [await probeTcp(p, HOST), await probeTcp(p + 1, HOST), await probeUdp(p + 1, HOST)] : [];
    udp.close();
    for (const o of others) o?.close();
    if (others.length === 3 && others.every((o) => o !== undefined)) return p;
  }
  throw new Error(`no free SIP port pair on ${HOST} after ${tries} tries`);
}

export async function findFreeTcpPort(): Promise<number> {
  const tcp = await probeTcp(0, HOST);
  if (!tcp) throw new Error(`cannot bind a TCP port on ${HOST}`);
  tcp.close();
  return tcp.port;
}

/**
 * An RTP range starting at an even port that is free with its RTCP neighbour. baresip binds
 * RTP/RTCP on 0.0.0.0 and tries random even ports in the range until a pair binds, so a port
 * taken later (or a range overlapping another phone's) only narrows its choice.
 */
export async function findFreeRtpRange(tries = 20): Promise<{ min: number; max: number }> {
  for (let i = 0; i < tries; i++) {
    const probe = await probeUdp(0, '0.0.0.0');
    if (!probe) continue;
    probe.close();
    const min = probe.port - (probe.port % 2);
    if (min + RTP_RANGE_WIDTH > 65535) continue;
    const rtp = await probeUdp(min, '0.0.0.0');
    const rtcp = await probeUdp(min + 1, '0.0.0.0');
    rtp?.close();
    rtcp?.close();
    if (rtp && rtcp) return { min, max: min + RTP_RANGE_WIDTH };
  }
  throw new Error(`no free RTP port pair after ${tries} tries`);
}
