/**
 * Connection hygiene under hostile clients (issue 16), through a real server:
 * silent TCP connections and half-finished prefaces are closed, idle
 * connections are closed, the connection cap refuses extra connections with a
 * log line, the per-connection stream cap is advertised and logged, and with
 * auth on a connection whose calls all fail authentication is closed.
 * Reflection can be switched off or put behind auth; health stays open.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, failure } from '../helpers/client';
import { ROOT, type RunningServer, startServer } from '../helpers/server';

const servers: RunningServer[] = [];

async function serve(args: string[]): Promise<RunningServer> {
  const server = await startServer({ args: ['--backend', 'memory', ...args] });
  servers.push(server);
  return server;
}

afterAll(async () => {
  for (const server of servers) {
    await server.stop();
    server.cleanup();
  }
});

async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw TCP connection and whether the server has closed it. */
function rawSocket(port: number, send?: Buffer): { socket: net.Socket; closed: () => boolean } {
  let closed = false;
  const socket = net.connect(port, '127.0.0.1', () => {
    if (send !== undefined) socket.write(send);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  socket.resume();
  return { socket, closed: () => closed };
}

describe('silent and idle connections', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve(['--handshake-timeout-ms', '500', '--connection-idle-ms', '1500']);
  });

  test('a TCP connection that never sends a byte is closed after the handshake timeout', async () => {
    const silent = Array.from({ length: 20 }, () => rawSocket(server.port));
    await until(() => silent.every((s) => s.closed()), 10_000, 'silent connections to close');
    expect(server.output()).toMatch(
      /closed connections that did not finish the handshake in time \(LUCIEN_HANDSHAKE_TIMEOUT_MS\)/,
    );
  });

  test('a connection that sends only part of the HTTP/2 preface is closed too', async () => {
    const partial = rawSocket(server.port, Buffer.from('PRI * HTTP/2.0\r\n'));
    await until(partial.closed, 10_000, 'the half-preface connection to close');
  });

  test('a connection that completed the preface outlives the handshake timeout, then closes when idle', async () => {
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    session.on('error', () => undefined);
    let closedAt = 0;
    session.on('close', () => (closedAt = Date.now()));
    const opened = Date.now();
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    await new Promise((r) => setTimeout(r, 800));
    expect(session.closed).toBe(false); // past the 500 ms handshake deadline, still open
    await until(() => closedAt > 0, 10_000, 'the idle connection to close');
    expect(closedAt - opened).toBeGreaterThanOrEqual(1400);
  });

  test('a gRPC client still works after its idle connection was closed (it reconnects)', async () => {
    const client = connect(server.address);
    try {
      await client.call('Put', { bucket: 'idle', key: 'k', value: '{"n":1}' });
      await new Promise((r) => setTimeout(r, 2500));
      const got = await client.call<{ value: string }>('Get', { bucket: 'idle', key: 'k' });
      expect(JSON.parse(got.value)).toEqual({ n: 1 });
    } finally {
      client.close();
    }
  });
});

describe('caps', () => {
  test('past LUCIEN_MAX_CONNECTIONS new connections are closed at once, with a log line; closing some makes room', async () => {
    const server = await serve(['--max-connections', '3']);
    const outcomes: ('open' | 'closed')[] = [];
    const sessions: http2.ClientHttp2Session[] = [];
    for (let i = 0; i < 6; i++) {
      const session = http2.connect(`http://127.0.0.1:${server.port}`);
      session.on('error', () => undefined);
      sessions.push(session);
      outcomes.push(
        await new Promise<'open' | 'closed'>((resolve) => {
          session.once('remoteSettings', () => resolve('open'));
          session.once('close', () => resolve('closed'));
        }),
      );
    }
    // The launcher's own health-check connection may still hold a place.
    expect(outcomes.filter((o) => o === 'open').length).toBeLessThanOrEqual(3);
    expect(outcomes.filter((o) => o === 'closed').length).toBeGreaterThanOrEqual(3);
    await until(() => server.output().includes('connection cap reached'), 5000, 'the cap log line');
    expect(server.output()).toMatch(/LUCIEN_MAX_CONNECTIONS/);
    for (const s of sessions) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const client = connect(server.address);
    try {
      await client.call('Put', { bucket: 'cap', key: 'k', value: '{}' });
    } finally {
      client.close();
    }
  });

  test('the per-connection stream cap is advertised in SETTINGS and logged when a connection reaches it', async () => {
    const server = await serve(['--max-streams-per-connection', '2']);
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    session.on('error', () => undefined);
    const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
    expect(settings.maxConcurrentStreams).toBe(2);
    session.destroy();

    const client = connect(server.address);
    const streams = ['a', 'b'].map((bucket) => {
      const s = (client.raw as unknown as { Watch(req: object): grpc.ClientReadableStream<unknown> }).Watch({ bucket });
      s.on('error', () => undefined);
      return s;
    });
    try {
      await until(() => server.output().includes('cap of concurrent streams'), 10_000, 'the stream cap log line');
      expect(server.output()).toMatch(/LUCIEN_MAX_STREAMS_PER_CONNECTION/);
    } finally {
      for (const s of streams) s.cancel();
      client.close();
    }
  });
});

describe('with auth on', () => {
  const good = 'a-good-token-0123456789';
  let server: RunningServer;
  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lucien-auth-')), 'auth.json');
    writeFileSync(file, JSON.stringify({ tokens: [{ name: 'reader', token: good, role: 'read' }] }));
    server = await serve(['--auth-file', file, '--auth-failures-per-connection', '3', '--reflection', 'auth']);
  });

  const bearer = (token: string): grpc.Metadata => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return md;
  };

  test('a connection whose calls all fail authentication is closed after a few attempts', async () => {
    const client = connect(server.address);
    try {
      for (let i = 0; i < 3; i++) {
        const err = await failure(client.call('Get', { bucket: 'b', key: 'k' }, bearer('a-wrong-token-0123456789')));
        expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      }
      await until(
        () => server.output().includes('closing a connection whose calls all failed authentication'),
        5000,
        'the close log line',
      );
      const channel = client.raw.getChannel();
      await until(
        () => channel.getConnectivityState(false) !== grpc.connectivityState.READY,
        5000,
        'the connection to drop',
      );
    } finally {
      client.close();
    }
  });

  test('a connection that authenticated once is not closed for later failures', async () => {
    const client = connect(server.address);
    try {
      await failure(client.call('Get', { bucket: 'b', key: 'k' }, bearer(good)));
      const before = server.output().split('closing a connection whose calls all failed').length;
      for (let i = 0; i < 5; i++)
        await failure(client.call('Get', { bucket: 'b', key: 'k' }, bearer('a-wrong-token-0123456789')));
      expect(server.output().split('closing a connection whose calls all failed').length).toBe(before);
      expect(client.raw.getChannel().getConnectivityState(false)).toBe(grpc.connectivityState.READY);
    } finally {
      client.close();
    }
  });

  test('reflection behind auth refuses a caller without a token, answers one with a token; health stays open', async () => {
    const without = await reflectList(server.address, new grpc.Metadata());
    expect(without).toEqual({ error: grpc.status.UNAUTHENTICATED });
    const withToken = await reflectList(server.address, bearer(good));
    expect(withToken).toHaveProperty('services');
    expect(await healthStatus(server.address)).toBe('SERVING');
  });
});

test('reflection can be turned off; health stays open', async () => {
  const server = await serve(['--reflection', 'off']);
  expect(await reflectList(server.address, new grpc.Metadata())).toEqual({ error: grpc.status.UNIMPLEMENTED });
  expect(await healthStatus(server.address)).toBe('SERVING');
});

async function reflectList(
  address: string,
  metadata: grpc.Metadata,
): Promise<{ services: string[] } | { error: grpc.status }> {
  const def = protoLoader.loadSync(
    join(ROOT, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'),
    { keepCase: true, defaults: true, oneofs: true },
  );
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve) => {
      const stream = (
        client as unknown as {
          ServerReflectionInfo(
            md: grpc.Metadata,
          ): grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
        }
      ).ServerReflectionInfo(metadata);
      stream.on('data', (answer) => {
        resolve({ services: answer.list_services_response?.service.map((s: { name: string }) => s.name) ?? [] });
        stream.end();
      });
      stream.on('error', (err: grpc.ServiceError) => resolve({ error: err.code }));
      stream.write({ list_services: '' });
    });
  } finally {
    client.close();
  }
}

async function healthStatus(address: string): Promise<string> {
  const def = protoLoader.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'), {
    keepCase: true,
    enums: String,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => {
      (
        client as unknown as { Check(req: object, cb: (err: Error | null, res: { status: string }) => void): void }
      ).Check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res.status)));
    });
  } finally {
    client.close();
  }
}
