/**
 * Engine host failures injected at every stage of a run, through a real
 * server with one host per language: a host killed while idle (before
 * dispatch) or right after its answer is never handed to the next caller; a
 * host killed from outside in the middle of a bridge call fails that run with
 * ENGINE_LOST (UNAVAILABLE, retryable) and commits nothing; a host whose
 * engine broke retires with its answer, so the caller queued behind it gets a
 * fresh host instead of a dead one; deep nesting never reaches a host; a run
 * over the write-key limit is RESOURCE_EXHAUSTED even if the script catches it.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { enginePids, running, until } from '../helpers/hosts';
import { type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let client: TestClient;

const ENGINES = ['javascript', 'python'] as const;
const SCRIPTS: Record<(typeof ENGINES)[number], Record<string, string>> = {
  javascript: {
    loop: "const b = buckets.getBucket('out'); b.put(args[0], {x: 1}); while (true) { b.get('k'); }",
    one: 'result = 1',
    many: "const b = buckets.getBucket('out'); for (let i = 0; i < 10; i++) { try { b.put('w' + i, {i}); } catch (e) { } } result = 'carried on'",
    depth: 'result = JSON.stringify(args).length',
  },
  python: {
    loop: "b = buckets.getBucket('out')\nb.put(args[0], {'x': 1})\nwhile True:\n    b.get('k')",
    one: 'result = 1',
    many: "b = buckets.getBucket('out')\nfor i in range(10):\n    try:\n        b.put('w%d' % i, {'i': i})\n    except LucienError:\n        pass\nresult = 'carried on'",
    depth: 'result = len(args)',
    // Nesting built by the script itself overflows Pyodide's stack: the engine breaks and the host retires.
    breaker: 'x = []\nfor i in range(100000):\n    x = [x]\nresult = x',
  },
};

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory', '--script-max-writes', '5'] });
  client = connect(server.address);
  for (const engine of ENGINES) {
    for (const [name, source] of Object.entries(SCRIPTS[engine]))
      await client.call('PutScript', { name: `${engine}_${name}`, engine, source });
  }
});

afterAll(async () => {
  client.close();
  await server.stop();
  server.cleanup();
});

const hostOf = (engine: string): number => {
  const host = enginePids(server.process.pid as number).find((h) => h.engine === engine);
  if (host === undefined) throw new Error(`no ${engine} host`);
  return host.pid;
};
// A generous time limit: after a kill the run waits for a replacement host (Pyodide takes seconds on a busy machine).
const one = async (engine: string): Promise<unknown> =>
  JSON.parse((await client.call<{ result: string }>('Run', { name: `${engine}_one`, timeout_ms: 20000 })).result);
const absent = async (key: string): Promise<boolean> =>
  (await failure(client.call('Get', { bucket: 'out', key }))).code === grpc.status.NOT_FOUND;

describe.each(ENGINES)('%s', (engine) => {
  test('a host killed while idle is never handed to the next run (before dispatch)', async () => {
    expect(await one(engine)).toBe(1);
    const pid = hostOf(engine);
    process.kill(pid, 'SIGKILL');
    expect(await one(engine)).toBe(1);
    expect(hostOf(engine)).not.toBe(pid);
  });

  test('a host killed right after its answer is never handed to the next run (after done)', async () => {
    const pid = hostOf(engine);
    const first = client.call<{ result: string }>('Run', { name: `${engine}_one` }).then((r) => {
      process.kill(pid, 'SIGKILL');
      return r;
    });
    const second = first.then(() =>
      client.call<{ result: string }>('Run', { name: `${engine}_one`, timeout_ms: 20000 }),
    );
    expect(JSON.parse((await first).result)).toBe(1);
    expect(JSON.parse((await second).result)).toBe(1);
  });

  test('a host killed from outside mid-bridge-call fails its run with ENGINE_LOST (UNAVAILABLE, retryable); nothing is committed', async () => {
    const key = `${engine}-killed`;
    const run = failure(client.call('Run', { name: `${engine}_loop`, args: JSON.stringify([key]), timeout_ms: 30000 }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const pid = hostOf(engine);
    process.kill(pid, 'SIGKILL');
    const err = await run;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(errorCode(err)).toBe('ENGINE_LOST');
    expect(err.details).toMatch(/killed from outside/);
    await until(() => !running(pid), 2000, 'the killed host to be gone');
    expect(await absent(key)).toBe(true);
    expect(await one(engine)).toBe(1);
  });

  test('a run over the write-key limit is RESOURCE_EXHAUSTED even when the script catches the refusal; nothing is committed', async () => {
    const err = await failure(client.call('Run', { name: `${engine}_many` }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(errorCode(err)).toBe('SCRIPT_LIMIT');
    expect(err.details).toMatch(/at most 5 keys/);
    expect(await absent('w0')).toBe(true);
  });

  test('arguments nested 10,000 deep are refused before they reach the host, and the host stays', async () => {
    const pid = hostOf(engine);
    const deep = `[${'['.repeat(10000)}${']'.repeat(10000)}]`;
    const err = await failure(client.call('Run', { name: `${engine}_depth`, args: deep }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/nest/);
    expect(await one(engine)).toBe(1);
    expect(hostOf(engine)).toBe(pid);
  });
});

test('an answer too big for one frame is an error the script sees, and neither the server nor the host dies of it', async () => {
  const big = JSON.stringify({ s: 'x'.repeat(1000 * 1000) });
  const keys = Array.from({ length: 70 }, (_, i) => `big${i}`);
  for (const key of keys) await client.call('Put', { bucket: 'big', key, value: big });
  const source =
    "try { buckets.getBucket('big').getMany(args[0]); result = 'read'; } catch (e) { result = e.message; }";
  await client.call('PutScript', { name: 'javascript_huge', engine: 'javascript', source });
  const pid = hostOf('javascript');
  const out = await client.call<{ result: string }>('Run', { name: 'javascript_huge', args: JSON.stringify([keys]) });
  expect(JSON.parse(out.result)).toMatch(/larger than 67108864 bytes/);
  expect(await one('javascript')).toBe(1);
  expect(hostOf('javascript')).toBe(pid);
});

test('a Python host whose engine breaks retires with its answer: the guilty run gets the error, the run queued behind it a fresh host', async () => {
  const pid = hostOf('python');
  const guilty = failure(client.call('Run', { name: 'python_breaker' }));
  const innocent = client.call<{ result: string }>('Run', { name: 'python_one', timeout_ms: 20000 });
  const err = await guilty;
  expect(errorCode(err)).toBe('SCRIPT_ERROR');
  expect(err.details).toMatch(/EngineFailed/);
  expect(JSON.parse((await innocent).result)).toBe(1);
  expect(hostOf('python')).not.toBe(pid);
});
