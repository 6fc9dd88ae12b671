import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newCallIdGenerator } from '../../src/call/call-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('call ids are RFC 9562 UUIDv7: the time in the first 48 bits, version 7, variant 10', () => {
  const at = Date.UTC(2026, 10, 26, 17, 0, 0, 123);
  const id = newCallIdGenerator(() => at)();
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at);
});

test('ids made in the same millisecond, or after the clock stepped back, still sort in the order they were made', () => {
  let now = 1_700_000_000_000;
  const next = newCallIdGenerator(() => now);
  const ids: string[] = [];
  for (let i = 0; i < 5000; i++) ids.push(next()); // > 4096 in one ms: borrows the next millisecond
  now -= 10;
  ids.push(next());
  now += 1000;
  ids.push(next());
  for (const id of ids) assert.match(id, UUID_V7);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(parseInt(ids[ids.length - 1]!.slice(0, 8) + ids[ids.length - 1]!.slice(9, 13), 16), now);
});
