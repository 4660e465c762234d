/**
 * Throwaway TLS material for tests: a CA, a server certificate for
 * 127.0.0.1/localhost and a client certificate, made by openssl in a temp dir.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from './server';

export interface Certs {
  readonly dir: string;
  file(name: 'ca.pem' | 'server.pem' | 'server.key' | 'client.pem' | 'client.key'): string;
  cleanup(): void;
}

export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'lucien-certs-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=Lucien Test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  for (const [name, extra] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    writeFileSync(file(`${name}.ext`), `${extra}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
  }
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A real server that requires mutual TLS with these certificates and the
 * given tokens (an auth file in the certificates' folder), for client suites
 * that test TLS and tokens together.
 */
export async function startSecureServer(
  certs: Certs,
  tokens: readonly { name: string; token: string; role: string }[],
): Promise<RunningServer> {
  const auth = join(certs.dir, 'auth.json');
  writeFileSync(auth, JSON.stringify({ tokens }));
  return startServer({
    args: [
      ...['--backend', 'memory', '--auth-file', auth],
      ...[
        '--tls-cert',
        certs.file('server.pem'),
        '--tls-key',
        certs.file('server.key'),
        '--tls-ca',
        certs.file('ca.pem'),
      ],
    ],
    waitForPool: false,
    credentials: grpc.credentials.createSsl(
      readFileSync(certs.file('ca.pem')),
      readFileSync(certs.file('client.key')),
      readFileSync(certs.file('client.pem')),
    ),
  });
}
