/** A throwaway self-signed certificate for the TLS fuzz target (openssl, in a temporary folder). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function selfSignedCert(): { cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'c2c-fuzz-tls-'));
  try {
    const keyFile = join(dir, 'server.key');
    const certFile = join(dir, 'server.crt');
    const run = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ], { encoding: 'utf8' });
    if (run.error || run.status !== 0) throw new Error(`openssl failed: ${run.error?.message ?? run.stderr}`);
    return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
