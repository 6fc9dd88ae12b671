/**
 * `npm run demo`: the server on the sample config plus two simulated phones (1001 and 1002, the
 * sample's translation targets), then one call of each mode through the REST API, printing every
 * event — so a newcomer sees events, records and ladders without owning a phone. Then it keeps
 * running (open the web page) until Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { parseConfigText } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { startServer } from '../server.js';
import { DemoPhone } from './phone.js';

async function main(): Promise<void> {
  const file = 'clicktocall.config.sample';
  const { config, errors } = parseConfigText(readFileSync(file, 'utf8'), file);
  if (errors.length) throw new Error(errors.map((e) => e.text).join('\n'));
  const { logger, close } = createLogger({ level: 'WARNING', console: true });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const alice = await DemoPhone.start('1001', 25161, 36000, say);
  const bob = await DemoPhone.start('1002', 25171, 36002, say);
  const server = await startServer(config, { logger });
  say(server.readyLine);
  const web = `http://127.0.0.1:${config.httpPort}`;
  server.publisher.subscribe((e) => say(`  event ${e.kind.padEnd(19)} ${String(e.code).padEnd(3)} ${(e.leg ?? '').padEnd(11)} ${e.text}`));
  for (const mode of ['refer', 'anchored', 'ood-refer'] as const) {
    say(`\n── ${mode}: 1001 calls 1002 ──`);
    const res = await fetch(`${web}/v1/calls`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ initiator: '1001', destination: '1002', mode }),
    });
    const call = (await res.json()) as { id: string };
    await new Promise((r) => setTimeout(r, 3500));
    alice.hangupAll();
    bob.hangupAll();
    await new Promise((r) => setTimeout(r, 500));
    say(`  record: ${web}/v1/calls/${call.id}   ladder: ${web}/v1/calls/${call.id}/trace`);
  }
  say(`\nThe web page (live calls, ladders): ${web}/   records as CSV: ${web}/v1/records.csv`);
  say('Ctrl-C to stop.');
  const stop = async () => {
    await server.shutdown(0);
    await alice.close();
    await bob.close();
    await close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  if (process.argv.includes('--once')) await stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
