// The CSV export (GET /v1/records.csv): RFC 4180 quoting, header, CRLF, date range, paging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRequest } from '../../src/call/request.js';
import { csvField, CSV_HEADER } from '../../src/store/csv.js';
import { SqliteCallStore } from '../../src/store/sqlite-store.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2025, 1, 3, 4, 5, 6, 789);

/** A strict RFC 4180 reader, to check that what we write reads back as written. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        assert.ok(q >= 0, 'unterminated quoted field');
        field += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') { field += '"'; i++; } else break;
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        assert.notEqual(text[i], '\n', 'bare LF outside quotes');
        assert.notEqual(text[i], '"', 'quote inside an unquoted field');
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') { i++; continue; }
    assert.equal(text.slice(i, i + 2), '\r\n', 'lines end with CRLF');
    i += 2;
    rows.push(row);
    row = [];
    if (i >= text.length) return rows;
  }
}

function request(id: string, rawDestination: string): CallRequest {
  return {
    id, rawInitiator: '1001', rawDestination,
    initiator: 'sip:1001@pbx.example', destination: 'sip:2002@pbx.example', mode: 'anchored',
    options: { ringTimeoutMs: 60000, maxDurationMs: 14400000, holdOffer: 'c0-inactive', referNotifyTimeoutMs: 32000, transferPolicy: 'handle' },
    client: { address: '::1', port: 1, trigger: 'http' },
  };
}

test('csvField quotes only what RFC 4180 requires and doubles inner quotes', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(404), '404');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\r\nlines'), '"two\r\nlines"');
  assert.equal(csvField('lf\nonly'), '"lf\nonly"');
});

test('exportCsv: header, one CRLF line per call in [since, until), oldest first, hostile text intact', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-csv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteCallStore({ path: join(dir, 'c.db'), timers: new FakeClock(T0), reportError: () => {} });
  store.open();
  t.after(() => store.close());
  const hostile = 'Bob "the boss", ext.\r\n42';
  store.recordStart(request('before', 'x'), T0 - 1);
  store.recordStart(request('b', hostile), T0 + 5);
  store.recordStart(request('a', '2002'), T0);
  store.recordStart(request('at-until', 'x'), T0 + 10);
  store.appendDurable({
    callId: 'b', seq: 1, time: T0 + 6, kind: 'failed', leg: 'destination', code: 486, text: 'Failed to connect to destination',
    reason: 'busy, "really"', final: true,
  });
  const lines: string[] = [];
  store.exportCsv({ since: T0, until: T0 + 10 }, (line) => lines.push(line));
  assert.equal(lines[0], CSV_HEADER);
  assert.ok(lines.every((l) => l.endsWith('\r\n')));
  const rows = parseCsv(lines.join(''));
  const header = rows[0]!;
  assert.equal(rows.length, 3);
  const col = (row: string[], name: string) => row[header.indexOf(name)];
  assert.deepEqual(rows.slice(1).map((r) => col(r, 'id')), ['a', 'b']);
  const b = rows[2]!;
  assert.equal(b.length, header.length);
  assert.equal(col(b, 'raw_destination'), hostile);
  assert.equal(col(b, 'reason'), 'busy, "really"');
  assert.equal(col(b, 'state'), 'failed');
  assert.equal(col(b, 'final_code'), '486');
  assert.equal(col(b, 'created_at'), new Date(T0 + 5).toISOString());
  assert.equal(col(b, 'ended_at'), new Date(T0 + 6).toISOString());
  assert.equal(col(b, 'client_address'), '::1');
  assert.equal(col(b, 'destination_answered_at'), '');
});

test('exportCsv pages through more rows than one query returns', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-csv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteCallStore({ path: join(dir, 'c.db'), timers: new FakeClock(T0), reportError: () => {}, batchSize: 10_000 });
  store.open();
  t.after(() => store.close());
  // 2,500 calls over 1,000 distinct milliseconds: pages of 1,000 split runs of equal times.
  for (let i = 0; i < 2500; i++) store.recordStart(request(`c${String(i).padStart(4, '0')}`, 'x'), T0 + (i % 1000));
  const ids: string[] = [];
  store.exportCsv({ since: T0, until: T0 + 1000 }, (line) => ids.push(line.slice(0, line.indexOf(','))));
  assert.equal(ids.length, 2501);
  assert.equal(new Set(ids.slice(1)).size, 2500);
});
