/** The checks every CI fuzz run makes on its report (issue 7). */
import assert from 'node:assert/strict';
import type { FuzzReport } from './targets/report.js';

export function assertClean(report: FuzzReport, minInputs: number): void {
  const shown = report.findings.map((f) => `${f.kind} at ${f.index ?? '?'}: ${f.detail.slice(0, 300)}${f.input ? `\n  input: ${JSON.stringify(f.input.toString('latin1').slice(0, 400))}` : ''}`);
  assert.deepEqual(shown, [], `findings (replay: npm run fuzz -- --target ${report.target} --seed ${report.seed} --messages ${report.inputs})`);
  assert.equal(report.internalErrors, 0, 'internal errors');
  assert.ok(report.inputs >= minInputs, `inputs: ${report.inputs}`);
  assert.ok(report.expected400 > 0, 'the run included answerable malformed requests');
  assert.equal(report.answered400, report.expected400, 'every answerable malformed request got its 400');
  assert.ok(report.heapGrowthBytes < 128 * 2 ** 20, `heap growth ${report.heapGrowthBytes}`);
}
