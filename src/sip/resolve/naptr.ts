// RFC 3263 §4.1: keep the NAPTR records a SIP client can use, in the order to try them.
import type { NaptrRecord } from 'node:dns';
import type { SipTransport } from './types.js';

/** One usable NAPTR record: the transport it offers and the SRV name it points at. */
export interface NaptrChoice {
  transport: SipTransport;
  srvName: string;
}

// RFC 3263 §4.1 / RFC 3261 §26 registry: the service fields of SIP over UDP, TCP and TLS.
const SERVICE_TRANSPORT: Record<string, SipTransport> = {
  'sip+d2u': 'udp',
  'sip+d2t': 'tcp',
  'sips+d2t': 'tls',
};

export function selectNaptrRecords(
  records: readonly NaptrRecord[],
  secure: boolean,
  supported: ReadonlySet<SipTransport>,
): NaptrChoice[] {
  const usable: NaptrRecord[] = [];
  for (const record of records) {
    const transport = SERVICE_TRANSPORT[record.service.toLowerCase()];
    if (transport === undefined || !supported.has(transport)) continue;
    // RFC 3263 §4.1: "a client resolving a SIPS URI MUST discard any services that do not
    // contain "SIPS" as the protocol"; a SIP URI keeps SIPS+D2T when we support TLS.
    if (secure && transport !== 'tls') continue;
    // RFC 3263 §4.1: SIP uses the "s" flag (an SRV lookup of the replacement) and no regexp.
    if (record.flags.toLowerCase() !== 's' || record.regexp !== '') continue;
    if (record.replacement === '' || record.replacement === '.') continue;
    usable.push(record);
  }
  // RFC 3403 §4.1: lower order first, then lower preference.
  usable.sort((a, b) => a.order - b.order || a.preference - b.preference);
  return usable.map((record) => ({
    transport: SERVICE_TRANSPORT[record.service.toLowerCase()]!,
    srvName: record.replacement,
  }));
}
