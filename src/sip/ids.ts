/**
 * Identifiers we mint: Via branches (RFC 3261 §8.1.1.7, unique across space and time, with the
 * magic cookie), tags (§19.3, ≥ 32 bits of randomness) and Call-IDs (§8.1.1.4). A random
 * per-instance prefix plus a counter keeps them unique without calling the CSPRNG per message.
 */
import { randomBytes } from 'node:crypto';

export class IdGenerator {
  private readonly prefix: string;
  private counter = 0;
  /** Random bytes drawn 4 KiB at a time: one CSPRNG call per 1,024 tags, not one per tag. */
  private pool = Buffer.alloc(0);
  private poolAt = 0;

  constructor(private readonly host = 'clicktocall') {
    this.prefix = randomBytes(6).toString('hex');
  }

  private next(): string {
    this.counter = (this.counter + 1) % 0x7fffffff;
    return this.prefix + this.counter.toString(36);
  }

  branch(): string {
    return 'z9hG4bK' + this.next();
  }

  tag(): string {
    if (this.poolAt + 4 > this.pool.length) {
      this.pool = randomBytes(4096);
      this.poolAt = 0;
    }
    const hex = this.pool.toString('hex', this.poolAt, this.poolAt + 4);
    this.poolAt += 4;
    this.counter = (this.counter + 1) % 0x7fffffff;
    return hex + this.counter.toString(36);
  }

  callId(): string {
    return this.next() + '@' + this.host;
  }
}
