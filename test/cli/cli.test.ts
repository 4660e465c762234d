/**
 * The `lucien` command, run as a subprocess (the built binary) against real
 * servers: help on every command, exit codes with error code and message,
 * key-value commands with exact numbers, run and eval, scripts push with
 * file:line syntax errors and --if-unchanged, watch resuming after a server
 * restart, TLS and token flags and variables.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LucienClient } from '../../clients/typescript';
import { freePort } from '../../scripts/lib/free-port';
import { type Certs, makeCerts, startSecureServer } from '../helpers/certs';
import { lines, lucien } from '../helpers/cli';
import { ROOT, type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let env: Record<string, string>;
let work: string;

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory'] });
  env = { LUCIEN_SERVER: server.address };
  work = mkdtempSync(join(tmpdir(), 'lucien-cli-'));
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const COMMANDS = [
  'get',
  'put',
  'del',
  'ls',
  'buckets',
  'count',
  'run',
  'eval',
  'scripts ls',
  'scripts get',
  'scripts push',
  'scripts rm',
  'watch',
  'export',
  'import',
];

test('--help lists every command, and every command has its own --help', async () => {
  const top = await lucien(['--help']);
  expect(top.code).toBe(0);
  for (const name of COMMANDS) expect(top.stdout).toContain(`  ${name} `);
  for (const name of COMMANDS) {
    const help = await lucien([...name.split(' '), '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`Usage: lucien ${name} [options]`);
  }
});

test('command-line mistakes exit 2 with the usage line; nothing is sent', async () => {
  for (const args of [
    ['frob'],
    ['get', 'onlybucket'],
    ['put', 'b', 'k', '[1]'],
    ['put', 'b', 'k', 'nope'],
    ['ls', 'b', '--limit', 'x'],
    ['get', 'b', 'k', '--bogus'],
    ['run', 'x', 'post_1'],
    ['import', '--batch-size', '5000'],
  ]) {
    const r = await lucien(args, { env });
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(r.stderr).toMatch(/lucien/);
  }
  expect(await lucien(['buckets'], { env })).toMatchObject({ code: 0, stdout: '' });
});

test('a failed call exits 1 with the error code and message on stderr', async () => {
  const missing = await lucien(['get', 'nope', 'k'], { env });
  expect(missing).toMatchObject({ code: 1, stdout: '' });
  expect(missing.stderr).toContain('NOT_FOUND');
  const down = await lucien(['get', 'b', 'k', '--server', `127.0.0.1:${await freePort()}`, '--no-retry'], { env });
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/^lucien: UNAVAILABLE: /);
  const badBucket = await lucien(['put', 'bad bucket', 'k', '{}'], { env });
  expect(badBucket.code).toBe(1);
  expect(badBucket.stderr).toContain('INVALID_BUCKET');
});

test('put, get, del, ls, buckets and count: JSON lines when not on a terminal, numbers exact', async () => {
  expect(
    lines((await lucien(['put', 'posts', 'p1', '{"title": "Hi", "big": 9007199254740993}'], { env })).stdout),
  ).toEqual([{ revision: expect.any(Number) }]);
  const fromStdin = await lucien(['put', 'posts', 'p2', '-'], { env, input: '{"title": "From stdin"}\n' });
  expect(fromStdin.code).toBe(0);
  // Values print as stored: the exact text, numbers untouched.
  expect((await lucien(['get', 'posts', 'p1'], { env })).stdout).toBe('{"title": "Hi", "big": 9007199254740993}\n');
  const withRevisions = JSON.parse((await lucien(['get', 'posts', 'p2', '-r'], { env })).stdout) as {
    mod_revision: number;
  };
  expect(withRevisions).toMatchObject({ value: { title: 'From stdin' }, create_revision: expect.any(Number) });
  const stale = await lucien(
    ['put', 'posts', 'p2', '{"title":"x"}', '--if-revision', String(withRevisions.mod_revision - 1)],
    { env },
  );
  expect(stale.code).toBe(1);
  expect(stale.stderr).toContain('CONDITION_FAILED');
  expect(
    (
      await lucien(['put', 'posts', 'p2', '{"title":"y"}', '--if-revision', String(withRevisions.mod_revision)], {
        env,
      })
    ).code,
  ).toBe(0);
  const listing = (await lucien(['ls', 'posts'], { env })).stdout;
  expect(listing.split('\n')[0]).toBe(
    `{"key":"p1","value":{"title": "Hi", "big": 9007199254740993},"revision":${JSON.parse((await lucien(['get', 'posts', 'p1', '-r'], { env })).stdout).mod_revision}}`,
  );
  expect(lines((await lucien(['ls', 'posts', '--prefix', 'p2', '--keys-only'], { env })).stdout)).toEqual([
    { key: 'p2', revision: expect.any(Number) },
  ]);
  expect(lines((await lucien(['ls', 'posts', '-n', '1'], { env })).stdout)).toHaveLength(1);
  expect(lines((await lucien(['buckets'], { env })).stdout)).toEqual([{ bucket: 'posts' }]);
  expect((await lucien(['count', 'posts'], { env })).stdout).toBe('2\n');
  expect(lines((await lucien(['del', 'posts', 'p2'], { env })).stdout)).toEqual([
    { revision: expect.any(Number), deleted: true },
  ]);
  expect((await lucien(['count', 'posts'], { env })).stdout).toBe('1\n');
});

test('run prints the result on stdout and logs on stderr; a dry run lists its writes and commits nothing', async () => {
  const dir = join(work, 'run');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(
    join(dir, 'bump.py'),
    'b = buckets.getBucket("counters")\nv = (b.get(args[0]) or {"n": 0})["n"] + args[1]\nb.put(args[0], {"n": v})\nprint("now", v)\nresult = {"n": v}\n',
  );
  expect((await lucien(['scripts', 'push', join(dir, 'bump.py')], { env })).code).toBe(0);
  const run = await lucien(['run', 'bump', '"c"', '5'], { env });
  expect(run).toMatchObject({ code: 0, stdout: '{"n":5}\n' });
  expect(run.stderr).toBe('now 5\n');
  const dry = await lucien(['run', 'bump', '"c"', '1', '--dry-run'], { env });
  expect(dry.stdout).toBe('{"n":6}\n');
  expect(dry.stderr).toContain('dry run: 1 write not committed');
  expect(dry.stderr).toContain('{"put":{"bucket":"counters","key":"c","value":{"n":6}}}');
  expect((await lucien(['get', 'counters', 'c'], { env })).stdout).toBe('{"n":5}\n');
  const failed = await lucien(['run', 'bump', '"c"', '"x"'], { env });
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/lucien: SCRIPT_ERROR: .*TypeError.*line 2/);
});

test('eval runs a file or stdin without registering it; a dry run unless --commit; syntax errors as file:line', async () => {
  const file = join(work, 'try.js');
  writeFileSync(
    file,
    'buckets.getBucket("ev").put("k", {v: args[0]});\nconsole.log("js here");\nresult = args[0] * 2;\n',
  );
  const dry = await lucien(['eval', file, '21'], { env });
  expect(dry).toMatchObject({ code: 0, stdout: '42\n' });
  expect(dry.stderr).toContain('js here');
  expect((await lucien(['get', 'ev', 'k'], { env })).code).toBe(1);
  expect((await lucien(['eval', file, '2', '--commit'], { env })).stdout).toBe('4\n');
  expect((await lucien(['get', 'ev', 'k'], { env })).stdout).toBe('{"v":2}\n');
  expect((await lucien(['eval', '-'], { env, input: 'result = sum(args)' })).stdout).toBe('0\n');
  const syntax = await lucien(['eval', '-', '--engine', 'python'], { env, input: 'x = 1\ny = (\n' });
  expect(syntax.code).toBe(1);
  expect(syntax.stderr).toMatch(/^<stdin>:2: SyntaxError/);
  expect(
    lines((await lucien(['scripts', 'ls'], { env })).stdout).map((s) => (s as { name: string }).name),
  ).not.toContain('try');
});

test('scripts push registers a folder, reports syntax errors as file:line, and --if-unchanged refuses to overwrite a change made elsewhere', async () => {
  const dir = join(work, 'scripts');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'hello.py'), 'result = "hello " + args[0]\n');
  writeFileSync(join(dir, 'twice.js'), 'result = args[0] * 2;\n');
  writeFileSync(join(dir, 'broken.py'), 'x = 1\n\nif x\n    pass\n');
  writeFileSync(join(dir, 'notes.txt'), 'not a script');
  const first = await lucien(['scripts', 'push', dir], { env });
  expect(first.code).toBe(1);
  expect(first.stderr).toContain(`${join(dir, 'broken.py')}:3: SyntaxError`);
  rmSync(join(dir, 'broken.py'));
  const listed = lines((await lucien(['scripts', 'ls'], { env })).stdout) as { name: string; engine: string }[];
  expect(listed).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'hello', engine: 'python' }),
      expect.objectContaining({ name: 'twice', engine: 'javascript' }),
    ]),
  );
  expect(listed.map((s) => s.name)).not.toContain('broken');
  expect((await lucien(['run', 'twice', '21'], { env })).stdout).toBe('42\n');
  expect((await lucien(['scripts', 'get', 'hello'], { env })).stdout).toBe('result = "hello " + args[0]\n');

  // Unchanged on the server: --if-unchanged pushes.
  writeFileSync(join(dir, 'hello.py'), 'result = "hi " + args[0]\n');
  expect((await lucien(['scripts', 'push', join(dir, 'hello.py'), '--if-unchanged'], { env })).code).toBe(0);
  // Someone else changes it: --if-unchanged refuses, and the server keeps their version.
  const other = new LucienClient({ address: server.address });
  await other.putScript('hello', 'result = "theirs"');
  other.close();
  writeFileSync(join(dir, 'hello.py'), 'result = "mine"\n');
  const refused = await lucien(['scripts', 'push', join(dir, 'hello.py'), '--if-unchanged'], { env });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('changed on the server since revision');
  expect((await lucien(['run', 'hello', '"x"'], { env })).stdout).toBe('"theirs"\n');
  // Fetching it records the revision, so the next --if-unchanged push goes through.
  expect((await lucien(['scripts', 'get', 'hello', '-o', join(dir, 'hello.py')], { env })).code).toBe(0);
  expect(readFileSync(join(dir, 'hello.py'), 'utf8')).toBe('result = "theirs"');
  writeFileSync(join(dir, 'hello.py'), 'result = "merged"\n');
  expect((await lucien(['scripts', 'push', join(dir, 'hello.py'), '--if-unchanged'], { env })).code).toBe(0);
  expect((await lucien(['run', 'hello'], { env })).stdout).toBe('"merged"\n');
  expect(lines((await lucien(['scripts', 'rm', 'hello'], { env })).stdout)).toEqual([{ deleted: true }]);
  expect((await lucien(['scripts', 'get', 'hello'], { env })).code).toBe(1);
});

test('watch prints one JSON line per change and resumes after the server is killed and restarted', async () => {
  const port = await freePort();
  const first = await startServer({ args: ['--port', String(port)], waitForPool: false });
  const local = { LUCIEN_SERVER: first.address };
  const { revision } = JSON.parse((await lucien(['put', 'marker', 'm', '{}'], { env: local })).stdout) as {
    revision: number;
  };
  const watching = lucien(['watch', 'feed', '--count', '3', '--from', String(revision + 1)], {
    env: local,
    timeoutMs: 60000,
  });
  await lucien(['put', 'feed', 'a', '{"n":1}'], { env: local });
  await lucien(['put', 'elsewhere', 'x', '{}'], { env: local });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await first.kill();
  const second = await startServer({ args: ['--port', String(port)], dataDir: first.dataDir, waitForPool: false });
  try {
    await lucien(['del', 'feed', 'a'], { env: local });
    await lucien(['put', 'feed', 'b', '{"n":2}'], { env: local });
    const out = await watching;
    expect(out.code).toBe(0);
    expect(lines(out.stdout)).toEqual([
      { type: 'PUT', bucket: 'feed', key: 'a', value: { n: 1 }, revision: expect.any(Number) },
      { type: 'DELETE', bucket: 'feed', key: 'a', value: null, revision: expect.any(Number) },
      { type: 'PUT', bucket: 'feed', key: 'b', value: { n: 2 }, revision: expect.any(Number) },
    ]);
    expect(out.stderr).toContain('resuming from revision');
  } finally {
    await second.stop();
    first.cleanup();
  }
});

describe('TLS and tokens', () => {
  let certs: Certs;
  let secure: RunningServer;
  const TOKEN = 'admin-token-0123456789abcdef';

  beforeAll(async () => {
    certs = makeCerts();
    secure = await startSecureServer(certs, [{ name: 'ops', token: TOKEN, role: 'admin' }]);
  });

  afterAll(async () => {
    await secure?.stop();
    secure?.cleanup();
    certs?.cleanup();
  });

  test('--tls-ca/--tls-cert/--tls-key with --token or LUCIEN_TOKEN work; without a token the call fails UNAUTHENTICATED', async () => {
    const tls = [
      '--server',
      secure.address,
      '--tls-ca',
      certs.file('ca.pem'),
      '--tls-cert',
      certs.file('client.pem'),
      '--tls-key',
      certs.file('client.key'),
    ];
    expect((await lucien([...tls, '--token', TOKEN, 'put', 's', 'k', '{"ok":true}'])).code).toBe(0);
    expect((await lucien([...tls, 'get', 's', 'k'], { env: { LUCIEN_TOKEN: TOKEN } })).stdout).toBe('{"ok":true}\n');
    const anonymous = await lucien([...tls, 'get', 's', 'k']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('UNAUTHENTICATED');
    const plaintext = await lucien(['--server', secure.address, '--token', TOKEN, '--no-retry', 'get', 's', 'k']);
    expect(plaintext.code).toBe(1);
    expect(plaintext.stderr).toContain('UNAVAILABLE');
  });
});

test('npx lucien works in the clone, and the package exports lucien/client', () => {
  const help = execFileSync('npx', ['--no-install', 'lucien', '--help'], { cwd: ROOT, encoding: 'utf8' });
  expect(help).toContain('Usage: lucien [options] COMMAND');
  const exported = execFileSync(process.execPath, ['-e', 'console.log(typeof require("lucien/client").LucienClient)'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(exported.trim()).toBe('function');
});

test('on a terminal, values print pretty, listings as tables, and export/import draw a progress line on stderr', async () => {
  // util-linux `script` gives the command a pseudo-terminal.
  const file = join(work, 'tty.jsonl');
  await lucien(['put', 'tty', 'k', '{"a": {"b": 9007199254740993}}'], { env });
  const command = [
    `node ${join(ROOT, 'bin/lucien.js')} get tty k`,
    `node ${join(ROOT, 'bin/lucien.js')} ls tty`,
    `node ${join(ROOT, 'bin/lucien.js')} export -o ${file}`,
    `node ${join(ROOT, 'bin/lucien.js')} import ${file}`,
  ].join('; ');
  const out = execFileSync('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).replace(/\r/g, '');
  expect(out).toContain('{\n  "a": {\n    "b": 9007199254740993\n  }\n}');
  expect(out).toMatch(/KEY\s+REVISION\s+VALUE\nk\s+\d+\s+\{"a": \{"b": 9007199254740993\}\}/);
  expect(out).toContain('exported keys');
  expect(out).toMatch(/\[[#-]{30}\]\s+\d+% imported keys/);
  expect(out).toMatch(/imported \d+ keys \(/);
});
