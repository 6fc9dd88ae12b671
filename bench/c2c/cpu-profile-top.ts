/**
 * `node --import tsx bench/c2c/cpu-profile-top.ts FILE.cpuprofile [N]` — the N functions with the
 * most self time in a V8 CPU profile (from `bench/run.ts --cpu-prof DIR`), to say what limits
 * the server: self time per function = the sample intervals whose top frame it was.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export function topSelfTime(profile: CpuProfile, n: number): SelfTime[] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const f = byId.get(id)?.callFrame;
    if (!f) return;
    const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
    const key = `${f.functionName}@${file}:${f.lineNumber + 1}`;
    const entry = self.get(key) ?? { name: f.functionName || '(anonymous)', where: file ? `${file}:${f.lineNumber + 1}` : '', us: 0 };
    entry.us += us;
    self.set(key, entry);
  });
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: total > 0 ? e.us / total : 0 }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpu-profile-top.ts FILE.cpuprofile [N]');
    process.exit(2);
  }
  const top = topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(count ?? 25));
  for (const t of top) console.log(`${(t.share * 100).toFixed(1).padStart(5)} %  ${t.ms.toFixed(0).padStart(7)} ms  ${t.name}  ${t.where}`);
}
