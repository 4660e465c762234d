/**
 * TLS: with LUCIEN_TLS_CERT/KEY the server speaks only TLS; with LUCIEN_TLS_CA
 * it also requires a client certificate signed by that CA. Certificates are
 * made by openssl (test/helpers/certs.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { type Certs, makeCerts } from '../helpers/certs';
import { connect, failure } from '../helpers/client';
import { startServer } from '../helpers/server';

let certs: Certs;
const file: Certs['file'] = (name) => certs.file(name);

beforeAll(() => {
  certs = makeCerts();
});

afterAll(() => certs?.cleanup());

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
