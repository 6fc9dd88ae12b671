import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { LOG_LEVELS, legacyLevelName, parseLogLevel, toPinoLevel } from '../../src/log/levels.js';

test('every LogLevel maps onto its pino level', () => {
  assert.deepEqual(
    LOG_LEVELS.map((l) => [l, toPinoLevel(l)]),
    [
      ['NONE', 'silent'],
      ['CRIT', 'fatal'],
      ['ERR', 'error'],
      ['WARNING', 'warn'],
      ['INFO', 'info'],
      ['DEBUG', 'debug'],
      ['STACK', 'trace'],
    ],
  );
});

test('legacy names come back from pino numeric levels', () => {
  const numbers = LOG_LEVELS.filter((l) => l !== 'NONE').map((l) => pino.levels.values[toPinoLevel(l)]!);
  assert.deepEqual(numbers.map(legacyLevelName), ['CRIT', 'ERR', 'WARNING', 'INFO', 'DEBUG', 'STACK']);
  assert.equal(legacyLevelName(35), 'L35');
});

test('parseLogLevel accepts any case and refuses other words', () => {
  assert.equal(parseLogLevel(' warning '), 'WARNING');
  assert.equal(parseLogLevel('stack'), 'STACK');
  assert.equal(parseLogLevel('WARN'), undefined);
  assert.equal(parseLogLevel(''), undefined);
});
