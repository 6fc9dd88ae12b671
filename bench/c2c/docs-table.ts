/**
 * Rows into a Markdown table of docs/benchmarks.md: the table is found by its header line and
 * the rows go right after its last row (so several tables can grow in one file); a missing table
 * is appended with its section text first.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function insertTableRows(file: string, headerLine: string, sectionText: string, rows: string[]): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  let at = text.indexOf(headerLine + '\n');
  if (at < 0) {
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    text += (text === '' ? '' : '\n') + sectionText;
    if (!text.endsWith('\n')) text += '\n';
    at = text.indexOf(headerLine + '\n');
    if (at < 0) throw new Error('the section text must contain the table header');
  }
  // Past the header, then past every line that starts with '|' (separator and rows).
  let end = at + headerLine.length + 1;
  while (end < text.length && text.charCodeAt(end) === 124 /* | */) {
    const nl = text.indexOf('\n', end);
    end = nl < 0 ? text.length : nl + 1;
  }
  const before = text.slice(0, end);
  const insert = (before.endsWith('\n') ? '' : '\n') + rows.map((r) => r + '\n').join('');
  writeFileSync(file, before + insert + text.slice(end));
}
