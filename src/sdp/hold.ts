/**
 * The SDP the server itself offers or answers: it never carries media, so its streams are on
 * hold. The initiator's first INVITE carries `c=0.0.0.0` with `a=inactive` (the form the
 * click-to-dial question describes; compatibility.md), or `inactive` with our own address, or no
 * SDP at all (late offer: we then answer the phone's offer in the ACK with `holdAnswer`).
 */
import { parse, write, type SessionDescription } from 'sdp-transform';

export type HoldOffer = 'c0-inactive' | 'inactive' | 'none';

let sessionVersion = Math.floor(Date.now() / 1000);

/** One audio stream, PCMU (and PCMA, telephone-event), held. */
export function holdOffer(kind: Exclude<HoldOffer, 'none'>, ownAddress: string): string {
  const v6 = ownAddress.includes(':');
  const addr = kind === 'c0-inactive' ? '0.0.0.0' : ownAddress;
  const family = kind === 'c0-inactive' || !v6 ? 'IP4' : 'IP6';
  const id = ++sessionVersion;
  return [
    'v=0',
    `o=clicktocall ${id} ${id} IN ${v6 ? 'IP6' : 'IP4'} ${ownAddress}`,
    's=clicktocall',
    `c=IN ${family} ${addr}`,
    't=0 0',
    'm=audio 8000 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=inactive',
    '',
  ].join('\r\n');
}

/**
 * An answer to `offer` that accepts every stream but holds it (RFC 3264 §6: same m-lines in the
 * same order, direction inactive, black-hole connection address), used in the ACK of a late-offer
 * 2xx and to close an offer we cannot use before a BYE.
 */
export function holdAnswer(offer: Buffer | string, ownAddress: string): string {
  let sd: SessionDescription;
  try {
    sd = parse(offer.toString());
  } catch {
    sd = parse(holdOffer('c0-inactive', ownAddress));
  }
  const id = ++sessionVersion;
  const answer: SessionDescription = {
    version: 0,
    origin: { username: 'clicktocall', sessionId: id, sessionVersion: id, netType: 'IN', ipVer: 4, address: ownAddress.includes(':') ? '127.0.0.1' : ownAddress },
    name: 'clicktocall',
    connection: { version: 4, ip: '0.0.0.0' },
    timing: { start: 0, stop: 0 },
    media: (sd.media ?? []).map((m) => ({
      type: m.type,
      port: m.port === 0 ? 0 : 9,
      protocol: m.protocol,
      payloads: m.payloads,
      rtp: m.rtp,
      fmtp: m.fmtp,
      direction: 'inactive' as const,
    })),
  };
  return write(answer);
}

/** Media address and port of the first audio stream (for logs and tests). */
export function audioTarget(sdp: Buffer | string | undefined): { address: string; port: number } | undefined {
  if (!sdp || sdp.length === 0) return undefined;
  try {
    const sd = parse(sdp.toString());
    const audio = (sd.media ?? []).find((m) => m.type === 'audio');
    if (!audio) return undefined;
    const ip = audio.connection?.ip ?? sd.connection?.ip;
    return ip ? { address: ip, port: audio.port } : undefined;
  } catch {
    return undefined;
  }
}
