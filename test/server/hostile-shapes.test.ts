/**
 * Nesting limits at the edge (issue 16), through a real server: values,
 * script arguments and script results nested deeper than LUCIEN_MAX_JSON_DEPTH
 * (64 by default) are refused and nothing is stored; both engines and the
 * Python client handle a value at the limit.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseConfig } from '../../src/config';
import { nestsDeeperThan } from '../../src/json-depth';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { ROOT, type RunningServer, startServer } from '../helpers/server';

const LIMIT = 64;
const PYTHON = process.env.LUCIEN_TEST_PYTHON ?? '/usr/bin/python3';

/** A JSON object nested exactly `depth` levels: {"a":{"a":…{}…}}. */
const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

let server: RunningServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer();
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

test('the depth scan counts brackets outside strings only, and stops early on deep input', () => {
  expect(nestsDeeperThan(nested(LIMIT), LIMIT)).toBe(false);
  expect(nestsDeeperThan(nested(LIMIT + 1), LIMIT)).toBe(true);
  expect(nestsDeeperThan(JSON.stringify({ s: '[[[[{{{{'.repeat(50), t: 'a\\"[[[' }), 2)).toBe(false);
  expect(nestsDeeperThan('[[[]]]', 3)).toBe(false);
  expect(nestsDeeperThan('[[[[]]]]', 3)).toBe(true);
  // Linear and iterative: a million levels is a scan, not a stack overflow.
  expect(nestsDeeperThan('['.repeat(1_000_000), LIMIT)).toBe(true);
  expect(parseConfig([], {}).edge.maxJsonDepth).toBe(LIMIT);
  expect(parseConfig(['--max-json-depth', '100'], {}).edge.maxJsonDepth).toBe(100);
});

test('a value at the limit is stored and read back; one level deeper is INVALID_VALUE and nothing is stored', async () => {
  await client.call('Put', { bucket: 'deep', key: 'ok', value: nested(LIMIT) });
  const got = await client.call<{ value: string }>('Get', { bucket: 'deep', key: 'ok' });
  expect(got.value).toBe(nested(LIMIT));

  for (const depth of [LIMIT + 1, 10_000]) {
    const err = await failure(client.call('Put', { bucket: 'deep', key: `no${depth}`, value: nested(depth) }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(errorCode(err)).toBe('INVALID_VALUE');
    expect(err.details).toMatch(/nests deeper than 64 levels/);
    expect((await failure(client.call('Get', { bucket: 'deep', key: `no${depth}` }))).code).toBe(grpc.status.NOT_FOUND);
  }
  const batch = await failure(
    client.call('Batch', {
      ops: [
        { put: { bucket: 'deep', key: 'b1', value: '{}' } },
        { put: { bucket: 'deep', key: 'b2', value: nested(LIMIT + 1) } },
      ],
    }),
  );
  expect(errorCode(batch)).toBe('INVALID_VALUE');
  expect((await failure(client.call('Get', { bucket: 'deep', key: 'b1' }))).code).toBe(grpc.status.NOT_FOUND);
});

test('Run arguments nested past the limit are INVALID_ARGUMENT before any engine sees them', async () => {
  await client.call('PutScript', { name: 'echo_js', engine: 'javascript', source: 'result = args[0];' });
  for (const depth of [LIMIT + 1, 10_000]) {
    const err = await failure(client.call('Run', { name: 'echo_js', args: `[${nested(depth - 1)}]` }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/args nest deeper than 64 levels/);
  }
});

describe.each(['python', 'javascript'])('the %s engine', (engine) => {
  const copy =
    engine === 'python'
      ? 'b = buckets.getBucket("deep")\nv = b.get(args[0])\nb.put(args[1], v)\nresult = v'
      : 'const b = buckets.getBucket("deep"); const v = b.get(args[0]); b.put(args[1], v); result = v;';
  const wrap =
    engine === 'python'
      ? 'result = [buckets.getBucket("deep").get(args[0])]'
      : 'result = [buckets.getBucket("deep").get(args[0])];';
  const deeper =
    engine === 'python'
      ? 'v = {}\nfor _ in range(64):\n    v = {"a": v}\nbuckets.getBucket("deep").put(args[0], v)'
      : 'let v = {}; for (let i = 0; i < 64; i++) v = { a: v }; buckets.getBucket("deep").put(args[0], v);';

  test('reads a value at the limit, writes it back, and returns it', async () => {
    await client.call('PutScript', { name: `copy_${engine}`, engine, source: copy });
    const run = await client.call<{ result: string }>('Run', {
      name: `copy_${engine}`,
      args: JSON.stringify(['ok', `copy-${engine}`]),
    });
    expect(JSON.parse(run.result)).toEqual(JSON.parse(nested(LIMIT)));
    const stored = await client.call<{ value: string }>('Get', { bucket: 'deep', key: `copy-${engine}` });
    expect(JSON.parse(stored.value)).toEqual(JSON.parse(nested(LIMIT)));
  });

  test('takes arguments at the limit', async () => {
    await client.call('PutScript', {
      name: `arg_${engine}`,
      engine,
      source: engine === 'python' ? 'result = args[0]' : 'result = args[0];',
    });
    const run = await client.call<{ result: string }>('Run', { name: `arg_${engine}`, args: `[${nested(LIMIT - 1)}]` });
    expect(JSON.parse(run.result)).toEqual(JSON.parse(nested(LIMIT - 1)));
  });

  test('a result past the limit is refused (SCRIPT_LIMIT) and writes nothing', async () => {
    await client.call('PutScript', { name: `wrap_${engine}`, engine, source: wrap });
    const err = await failure(client.call('Run', { name: `wrap_${engine}`, args: '["ok"]' }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(errorCode(err)).toBe('SCRIPT_LIMIT');
    expect(err.details).toMatch(/result nests deeper than 64 levels/);
  });

  test('a script writing a value past the limit fails (the bridge raises in the script) and writes nothing', async () => {
    await client.call('PutScript', { name: `deeper_${engine}`, engine, source: deeper });
    const err = await failure(
      client.call('Run', { name: `deeper_${engine}`, args: JSON.stringify([`deeper-${engine}`]) }),
    );
    // The bridge's INVALID_VALUE reaches the script as an exception; uncaught, the run fails as SCRIPT_ERROR.
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(errorCode(err)).toBe('SCRIPT_ERROR');
    expect(err.details).toMatch(/nests deeper than 64 levels/);
    expect((await failure(client.call('Get', { bucket: 'deep', key: `deeper-${engine}` }))).code).toBe(
      grpc.status.NOT_FOUND,
    );
  });
});

test('the Python client reads a value at the limit, and refuses a too-deep one with its own error, not RecursionError', async () => {
  const program = [
    'import sys',
    'from lucien import Client, LucienError',
    'from lucien.codec import decode',
    'c = Client(sys.argv[1])',
    'v = c.get("deep", "ok")',
    'd = 0',
    'while v:',
    '    v = v["a"]; d += 1',
    'assert d == 63, d',
    'try:',
    '    decode("[" * 100000 + "]" * 100000)',
    '    print("decoded?!")',
    'except LucienError as e:',
    '    print("refused", type(e).__name__)',
    'print("depth ok")',
  ].join('\n');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', program, server.address], {
      env: { ...process.env, PYTHONPATH: join(ROOT, 'clients/python') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  expect(output).toContain('refused InvalidArgument');
  expect(output).toContain('depth ok');
  expect(output).not.toContain('RecursionError');
}, 60_000);
