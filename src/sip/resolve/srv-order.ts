// RFC 2782 "Usage rules": order SRV records for trying, lowest priority first, and within one
// priority a weighted random pick repeated until every record is placed.
import type { SrvRecord } from 'node:dns';

/** Returns a number in [0, 1), like Math.random. Injected so tests can fix the order. */
export type RandomSource = () => number;

export function orderSrvRecords(records: readonly SrvRecord[], random: RandomSource): SrvRecord[] {
  // RFC 2782: a target of "." means the service is decidedly not available at this domain.
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  const byPriority = new Map<number, SrvRecord[]>();
  for (const record of usable) {
    const group = byPriority.get(record.priority);
    if (group) group.push(record);
    else byPriority.set(record.priority, [record]);
  }
  const priorities = [...byPriority.keys()].sort((a, b) => a - b);
  const ordered: SrvRecord[] = [];
  for (const priority of priorities) {
    ordered.push(...weightedOrder(byPriority.get(priority)!, random));
  }
  return ordered;
}

function weightedOrder(group: SrvRecord[], random: RandomSource): SrvRecord[] {
  // RFC 2782: "all those with weight 0 are placed at the beginning of the list" so that they
  // have a small chance of being picked instead of none.
  const remaining = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
  const ordered: SrvRecord[] = [];
  while (remaining.length > 0) {
    let sum = 0;
    for (const r of remaining) sum += r.weight;
    // "a uniform random number between 0 and the sum computed (inclusive)"
    const pick = Math.min(sum, Math.floor(clampUnit(random()) * (sum + 1)));
    let running = 0;
    let index = remaining.length - 1;
    for (let i = 0; i < remaining.length; i++) {
      running += remaining[i]!.weight;
      if (running >= pick) {
        index = i;
        break;
      }
    }
    ordered.push(remaining[index]!);
    remaining.splice(index, 1);
  }
  return ordered;
}

// A faulty random source must not break the order: keep its value inside [0, 1).
function clampUnit(value: number): number {
  if (!(value >= 0)) return 0;
  return value >= 1 ? 0.999999 : value;
}
