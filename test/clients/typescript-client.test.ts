/**
 * The TypeScript client (`lucien/client`) against real servers: every rpc
 * with values as objects, typed errors carrying the server's code, argument
 * mistakes caught before sending, per-call deadlines, retries (and opting
 * out), Watch resuming after the server is killed and restarted, TLS and
 * tokens.
 */
import { readFileSync } from 'node:fs';
import { LucienClient, type LucienClientError } from '../../clients/typescript';
import { freePort } from '../../scripts/lib/free-port';
import { type Certs, makeCerts, startSecureServer } from '../helpers/certs';
import { type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let client: LucienClient;

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory'] });
  client = new LucienClient({ address: server.address });
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

async function failure(promise: Promise<unknown>): Promise<LucienClientError> {
  try {
    await promise;
  } catch (err) {
    return err as LucienClientError;
  }
  throw new Error('expected a failure');
}

test('put, get, getEntry and delete speak objects, with exact text and revisions alongside', async () => {
  const revision = await client.put('posts', 'p1', { title: 'Hello', n: 1 });
  expect(await client.get('posts', 'p1')).toEqual({ title: 'Hello', n: 1 });
  const entry = await client.getEntry('posts', 'p1');
  expect(entry).toMatchObject({
    bucket: 'posts',
    key: 'p1',
    text: '{"title":"Hello","n":1}',
    createRevision: revision,
    modRevision: revision,
  });
  // JSON text goes through untouched, so big integers survive in `text`.
  await client.put('posts', 'big', '{"n": 9007199254740993}');
  expect((await client.getEntry('posts', 'big'))?.text).toBe('{"n": 9007199254740993}');
  expect(await client.get('posts', 'missing')).toBeUndefined();
  expect(await client.delete('posts', 'big')).toEqual({ revision: expect.any(Number), deleted: true });
  expect(await client.delete('posts', 'big')).toMatchObject({ deleted: false });
});

test('conditional writes fail with CONDITION_FAILED, a typed, non-retryable error', async () => {
  const revision = await client.put('cas', 'k', { v: 1 });
  await client.put('cas', 'k', { v: 2 }, { ifRevision: revision });
  const err = await failure(client.put('cas', 'k', { v: 3 }, { ifRevision: revision }));
  expect(err.name).toBe('LucienClientError');
  expect(err.code).toBe('CONDITION_FAILED');
  expect(err.grpcCode).toBe(9);
  expect(err.retryable).toBe(false);
  expect(await client.get('cas', 'k')).toEqual({ v: 2 });
});

test('list pages, scan, count, batch, batchGet and buckets', async () => {
  const ops = Array.from({ length: 250 }, (_, i) => ({
    type: 'put' as const,
    bucket: 'many',
    key: `k${String(i).padStart(3, '0')}`,
    value: { i },
  }));
  const revision = await client.batch(ops);
  const page = await client.list('many', { limit: 100 });
  expect(page.items).toHaveLength(100);
  expect(page.items[0]).toMatchObject({ key: 'k000', value: { i: 0 }, modRevision: revision });
  expect(page.nextPageToken).not.toBe('');
  const keys: string[] = [];
  for await (const kv of client.scan('many', { prefix: 'k1' })) keys.push(kv.key);
  expect(keys).toHaveLength(100);
  expect(await client.count('many')).toBe(250);
  const got = await client.batchGet([
    { bucket: 'many', key: 'k001' },
    { bucket: 'many', key: 'nope' },
  ]);
  expect(got.entries[0]?.value).toEqual({ i: 1 });
  expect(got.entries[1]).toBeUndefined();
  expect(got.revision).toBeGreaterThanOrEqual(revision);
  expect(await client.buckets()).toEqual(expect.arrayContaining(['many', 'posts']));
  expect(await client.currentRevision()).toBeGreaterThanOrEqual(revision);
});

test('scripts: register, read, list, run with args, dry run, delete', async () => {
  const source =
    'b = buckets.getBucket("counters")\nv = b.get(args[0]) or {"n": 0}\nb.put(args[0], {"n": v["n"] + 1})\nprint("was", v["n"])\nresult = v["n"] + 1';
  const revision = await client.putScript('incr', source, { description: 'adds one' });
  expect(await client.getScript('incr')).toEqual({
    name: 'incr',
    engine: 'python',
    source,
    description: 'adds one',
    revision,
  });
  expect((await client.listScripts()).map((s) => s.name)).toContain('incr');
  const first = await client.run<number>('incr', ['a']);
  expect(first).toMatchObject({ result: 1, resultText: '1', logs: ['was 0'], attempts: 1 });
  expect(first.writes).toEqual([{ bucket: 'counters', key: 'a', value: { n: 1 }, deleted: false }]);
  const dry = await client.run<number>('incr', ['a'], { dryRun: true });
  expect(dry.result).toBe(2);
  expect(await client.get('counters', 'a')).toEqual({ n: 1 });
  expect(await client.deleteScript('incr')).toBe(true);
  expect(await client.getScript('incr')).toBeUndefined();
  expect((await failure(client.run('incr'))).code).toBe('NOT_FOUND');
});

test('a failing script gives SCRIPT_ERROR with its line and logs; a syntax error gives SCRIPT_SYNTAX', async () => {
  await client.putScript('boom', 'console.log("before");\nthrow new Error("nope");', { engine: 'javascript' });
  const err = await failure(client.run('boom'));
  expect(err.code).toBe('SCRIPT_ERROR');
  expect(err.message).toContain('nope');
  expect(err.line).toBe(2);
  expect(err.logs).toEqual(['before']);
  const syntax = await failure(client.putScript('bad', 'x = (\n', {}));
  expect(syntax.code).toBe('SCRIPT_SYNTAX');
});

test('eval runs source without registering it: a dry run unless commit, with the same errors as Run', async () => {
  const dry = await client.eval<string>('buckets.getBucket("ev").put("k", {"v": args[0]})\nresult = "ok"', ['x']);
  expect(dry).toMatchObject({ result: 'ok', writes: [{ bucket: 'ev', key: 'k', value: { v: 'x' }, deleted: false }] });
  expect(await client.get('ev', 'k')).toBeUndefined();
  const committed = await client.eval('buckets.getBucket("ev").put("k", {"v": args[0]})\nresult = 1', ['y'], {
    commit: true,
  });
  expect(await client.get('ev', 'k')).toEqual({ v: 'y' });
  expect(committed.revision).toBe((await client.getEntry('ev', 'k'))?.modRevision);
  const js = await client.eval('console.log("hi"); result = args.length', [1, 2], { engine: 'javascript' });
  expect(js).toMatchObject({ result: 2, logs: ['hi'] });
  const raised = await failure(client.eval('x = 1\nraise ValueError("bad")'));
  expect(raised.code).toBe('SCRIPT_ERROR');
  expect(raised.line).toBe(2);
  expect((await failure(client.eval('def (:'))).code).toBe('SCRIPT_SYNTAX');
  expect((await failure(client.eval('result = 1', [], { engine: 'cobol' }))).code).toBe('INVALID_ARGUMENT');
  expect((await client.listScripts()).map((s) => s.name)).not.toContain('eval');
});

test("registered scripts keep running after hundreds of distinct evals push them out of the host's compile cache", async () => {
  await client.putScript('keep', 'result = 7', { engine: 'javascript' });
  expect((await client.run('keep')).result).toBe(7);
  for (let i = 0; i < 300; i++) await client.eval(`result = ${i};`, [], { engine: 'javascript' });
  expect((await client.run('keep')).result).toBe(7);
  expect((await client.eval('result = 0;', [], { engine: 'javascript' })).result).toBe(0);
});

test('argument mistakes fail in the client with CLIENT_INVALID_ARGUMENT, before anything is sent', async () => {
  const mistakes: Promise<unknown>[] = [
    client.put('b', 'k', [1, 2] as never),
    client.put('b', 'k', 42 as never),
    client.put('', 'k', {}),
    client.get('b', undefined as never),
    client.run('s', 'post_1' as never),
    client.put('b', 'k', {}, { ifRevision: -1 }),
    client.list('b', { limit: 5000 }),
    client.batch([{ type: 'nope', bucket: 'b', key: 'k' } as never]),
  ];
  for (const mistake of mistakes) {
    const err = await failure(mistake);
    expect(err.code).toBe('CLIENT_INVALID_ARGUMENT');
  }
  expect(() => new LucienClient({ address: 'no port' })).toThrow(/host:port/);
});

test('a per-call deadline ends a call that takes longer, with DEADLINE_EXCEEDED', async () => {
  const started = Date.now();
  const err = await failure(
    client.eval('while True:\n    pass', [], { timeoutMs: 3000, deadlineMs: 300, retry: false }),
  );
  expect(err.code).toBe('DEADLINE_EXCEEDED');
  expect(Date.now() - started).toBeLessThan(2500);
});

test('retryable failures are retried with back-off until the server is up; retry: false fails at once', async () => {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const impatient = new LucienClient({ address, retry: false });
  const err = await failure(impatient.get('b', 'k'));
  expect(err.code).toBe('UNAVAILABLE');
  expect(err.retryable).toBe(true);
  impatient.close();

  const patient = new LucienClient({
    address,
    retry: { attempts: 200, initialDelayMs: 50, maxDelayMs: 200 },
    deadlineMs: 60000,
  });
  const pending = patient.buckets();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const late = await startServer({ args: ['--backend', 'memory', '--port', String(port)], waitForPool: false });
  try {
    expect(await pending).toEqual([]);
  } finally {
    patient.close();
    await late.stop();
    late.cleanup();
  }
});

test('watch is an async iterator that resumes from the last revision after the server is killed and restarted', async () => {
  const port = await freePort();
  const first = await startServer({ args: ['--port', String(port)], waitForPool: false });
  const watcher = new LucienClient({ address: first.address, retry: { initialDelayMs: 50, maxDelayMs: 200 } });
  const controller = new AbortController();
  const seen: string[] = [];
  let reconnects = 0;
  const events = watcher.watch('w', { signal: controller.signal, onReconnect: () => reconnects++ });
  const collected = (async () => {
    for await (const event of events) {
      seen.push(`${event.type} ${event.key} ${JSON.stringify(event.value)}`);
      if (seen.length === 3) controller.abort();
    }
  })();
  const writer = new LucienClient({ address: first.address });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await writer.put('w', 'a', { n: 1 });
  await writer.put('other', 'x', { n: 0 });
  await writer.delete('w', 'a');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await first.kill();
  const second = await startServer({ args: ['--port', String(port)], dataDir: first.dataDir, waitForPool: false });
  try {
    await writer.put('w', 'b', { n: 2 });
    await collected;
    expect(seen).toEqual(['PUT a {"n":1}', 'DELETE a null', 'PUT b {"n":2}']);
    expect(reconnects).toBeGreaterThanOrEqual(1);
  } finally {
    writer.close();
    watcher.close();
    await second.stop();
    first.cleanup();
  }
});

describe('TLS and tokens', () => {
  let certs: Certs;
  let secure: RunningServer;
  const ADMIN = 'admin-token-0123456789abcdef';
  const WRITER = 'write-token-0123456789abcdef';

  beforeAll(async () => {
    certs = makeCerts();
    secure = await startSecureServer(certs, [
      { name: 'ops', token: ADMIN, role: 'admin' },
      { name: 'app', token: WRITER, role: 'write' },
    ]);
  });

  afterAll(async () => {
    await secure?.stop();
    secure?.cleanup();
    certs?.cleanup();
  });

  const tls = () => ({
    ca: readFileSync(certs.file('ca.pem')),
    cert: readFileSync(certs.file('client.pem')),
    key: readFileSync(certs.file('client.key')),
  });

  test('with TLS (client certificate) and a token the client works; without the token it gets UNAUTHENTICATED', async () => {
    const admin = new LucienClient({ address: secure.address, tls: tls(), token: ADMIN });
    await admin.put('s', 'k', { ok: true });
    expect(await admin.get('s', 'k')).toEqual({ ok: true });
    admin.close();
    const anonymous = new LucienClient({ address: secure.address, tls: tls() });
    expect((await failure(anonymous.get('s', 'k'))).code).toBe('UNAUTHENTICATED');
    anonymous.close();
  });

  test('eval needs the admin role: a write token gets PERMISSION_DENIED', async () => {
    const writer = new LucienClient({ address: secure.address, tls: tls(), token: WRITER });
    expect((await failure(writer.eval('result = 1'))).code).toBe('PERMISSION_DENIED');
    writer.close();
  });
});
