/**
 * TLS: with LUCIEN_TLS_CERT/KEY the server speaks only TLS; with LUCIEN_TLS_CA
 * it also requires a client certificate signed by that CA. Certificates are
 * made by openssl for this test.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, failure } from '../helpers/client';
import { startServer } from '../helpers/server';

const dir = mkdtempSync(join(tmpdir(), 'lucien-tls-'));
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

beforeAll(() => {
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
  for (const name of ['server', 'client']) {
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
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Sign each request with its extensions: SAN for the server, clientAuth for the client.
beforeAll(() => {
  for (const [name, extra] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
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
});

test('with a certificate the server speaks TLS, and a plaintext client cannot talk to it', async () => {
  const server = await startServer({
    args: ['--backend', 'memory', '--tls-cert', file('server.pem'), '--tls-key', file('server.key')],
    credentials: grpc.credentials.createSsl(readFileSync(file('ca.pem'))),
  });
  try {
    const secure = connect(server.address, grpc.credentials.createSsl(readFileSync(file('ca.pem'))));
    await secure.call('Put', { bucket: 'tls', key: 'k', value: '{"secure":true}' });
    expect(JSON.parse((await secure.call<{ value: string }>('Get', { bucket: 'tls', key: 'k' })).value)).toEqual({
      secure: true,
    });
    secure.close();
    const plain = connect(server.address);
    expect((await failure(plain.call('Get', { bucket: 'tls', key: 'k' }))).code).toBe(grpc.status.UNAVAILABLE);
    plain.close();
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('with a CA the server requires a client certificate signed by it', async () => {
  const server = await startServer({
    args: [
      '--backend',
      'memory',
      '--tls-cert',
      file('server.pem'),
      '--tls-key',
      file('server.key'),
      '--tls-ca',
      file('ca.pem'),
    ],
    credentials: grpc.credentials.createSsl(
      readFileSync(file('ca.pem')),
      readFileSync(file('client.key')),
      readFileSync(file('client.pem')),
    ),
  });
  try {
    const ca = readFileSync(file('ca.pem'));
    const anonymous = connect(server.address, grpc.credentials.createSsl(ca));
    expect((await failure(anonymous.call('Get', { bucket: 'tls', key: 'k' }))).code).toBe(grpc.status.UNAVAILABLE);
    anonymous.close();
    const mutual = connect(
      server.address,
      grpc.credentials.createSsl(ca, readFileSync(file('client.key')), readFileSync(file('client.pem'))),
    );
    await mutual.call('Put', { bucket: 'tls', key: 'k', value: '{"mutual":true}' });
    mutual.close();
  } finally {
    await server.stop();
    server.cleanup();
  }
});
