import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TlsFiles } from './redis-server.js';

/** A self-signed certificate for 127.0.0.1 and localhost, in a temp dir; `remove()` deletes it. */
export interface SelfSignedCertificate extends TlsFiles {
  readonly dir: string;
  remove(): Promise<void>;
}

/** Made by `openssl req -x509`: the certificate is its own CA, so `ca` is the certificate itself. */
export async function selfSignedCertificate(): Promise<SelfSignedCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'kettle-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=kettle-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, cert, key, ca: cert, remove: () => rm(dir, { recursive: true, force: true }) };
}
