/** The bodies of the benchmark calls: the typical INVITE's SDP as the offer, the same with another port as the answer. */
import { parseMessage } from '../src/sip/message/index.js';
import { typicalInvite } from './messages.js';

export function offerSdp(): Buffer {
  return parseMessage(typicalInvite()).body;
}

export function answerSdp(): Buffer {
  return Buffer.from(offerSdp().toString('utf8').replace('m=audio 36100', 'm=audio 36200'));
}
