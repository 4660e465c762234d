/**
 * Script behaviours of DESIGN §4, one suite run against both engines through
 * a real server: every global, results of every JSON type, logs, errors with
 * type and line, syntax errors at registration, dry runs, read-your-writes,
 * atomic commit, and nothing written by a failing run.
 */
import { status } from '@grpc/grpc-js';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory'] });
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

type RunRes = {
  result: string;
  logs: string[];
  revision: number;
  writes: { bucket: string; key: string; value: string; deleted: boolean }[];
  attempts: number;
};
const run = (name: string, args: unknown[] = [], extra: object = {}) =>
  client.call<RunRes>('Run', { name, args: JSON.stringify(args), ...extra });
const putScript = (name: string, engine: string, source: string) =>
  client.call<{ revision: number }>('PutScript', { name, engine, source });
const get = async (bucket: string, key: string) => {
  try {
    return JSON.parse((await client.call<{ value: string }>('Get', { bucket, key })).value);
  } catch (err) {
    if ((err as { code: number }).code === status.NOT_FOUND) return undefined;
    throw err;
  }
};

/** The same behaviour written in each language. */
const SOURCES = {
  python: {
    echo: 'result = {"args": args, "n": len(args)}',
    types: 'result = [None, True, 1, -2.5, "s", [1, 2], {"a": {"b": None}}, 2**53 + 1]',
    noResult: 'x = 1',
    logs: 'print("hello", 42)\nprint({"a": 1})\nresult = 1',
    crud: [
      'b = buckets.getBucket(args[0])',
      'b.put("k1", {"v": 1})',
      'b.put("k2", {"v": 2})',
      'seen = b.get("k1")',
      'b.delete("k2")',
      'gone = b.get("k2")',
      'many = b.getMany(["k1", "k2", "k3"])',
      'listed = b.list(prefix="k")',
      'result = {"seen": seen, "gone": gone, "many": many, "listed": [[k, v] for k, v in listed], "same": buckets[args[0]].get("k1")}',
    ].join('\n'),
    list: 'b = buckets.getBucket("lst")\nresult = [k for k, v in b.list(prefix="p", limit=2, start_after="p1")]',
    raises: 'x = 1\nraise KeyError("missing thing")',
    raisesAfterWrite: 'buckets.getBucket("fail").put("k", {"v": 1})\nprint("about to fail")\nraise ValueError("boom")',
    badValue: 'buckets.getBucket("ok").put("k", [1, 2])',
    reserved: 'buckets.getBucket("_scripts").put("evil", {"engine": "python", "script": "x"})',
    syntax: 'x = 1\ny = (\nz = 3',
    counter: 'b = buckets.getBucket("c")\nv = b.get("n") or {"n": 0}\nv["n"] += 1\nb.put("n", v)\nresult = v["n"]',
    surrogate: [
      'b = buckets.getBucket("sur")',
      'b.put("\\ufffd", {"v": 1})',
      'out = []',
      'for attempt in (lambda: b.get("\\ud800"), lambda: b.put("\\udfff", {"v": 2})):',
      '    try:',
      '        attempt()',
      '        out.append("went through")',
      '    except LucienError as e:',
      '        out.append(str(e))',
      'result = out',
    ].join('\n'),
  },
  javascript: {
    echo: 'result = { args, n: args.length };',
    types: 'result = [null, true, 1, -2.5, "s", [1, 2], { a: { b: null } }, 9007199254740992];',
    noResult: 'const x = 1;',
    logs: 'console.log("hello", 42);\nconsole.log({ a: 1 });\nresult = 1;',
    crud: [
      'const b = buckets.getBucket(args[0]);',
      'b.put("k1", { v: 1 });',
      'b.put("k2", { v: 2 });',
      'const seen = b.get("k1");',
      'b.delete("k2");',
      'const gone = b.get("k2");',
      'const many = b.getMany(["k1", "k2", "k3"]);',
      'const listed = b.list({ prefix: "k" });',
      'result = { seen, gone, many, listed, same: buckets.getBucket(args[0]).get("k1") };',
    ].join('\n'),
    list: 'const b = buckets.getBucket("lst");\nresult = b.list({ prefix: "p", limit: 2, startAfter: "p1" }).map(([k]) => k);',
    raises: 'const x = 1;\nthrow new TypeError("missing thing");',
    raisesAfterWrite:
      'buckets.getBucket("fail").put("k", { v: 1 });\nconsole.log("about to fail");\nthrow new Error("boom");',
    badValue: 'buckets.getBucket("ok").put("k", [1, 2]);',
    reserved: 'buckets.getBucket("_scripts").put("evil", { engine: "python", script: "x" });',
    syntax: 'const x = 1;\nconst y = (;\nconst z = 3;',
    counter:
      'const b = buckets.getBucket("c");\nconst v = b.get("n") || { n: 0 };\nv.n += 1;\nb.put("n", v);\nresult = v.n;',
    surrogate: [
      'const b = buckets.getBucket("sur");',
      'b.put("\\ufffd", { v: 1 });',
      'result = [() => b.get("\\ud800"), () => b.put("\\udfff", { v: 2 })].map((attempt) => {',
      '  try { attempt(); return "went through"; } catch (e) { return e.message; }',
      '});',
    ].join('\n'),
  },
} as const;

describe.each(Object.keys(SOURCES) as (keyof typeof SOURCES)[])('%s engine', (engine) => {
  const src = SOURCES[engine];
  const name = (s: string) => `${engine}_${s}`;

  beforeAll(async () => {
    for (const [key, source] of Object.entries(src)) if (key !== 'syntax') await putScript(name(key), engine, source);
  });

  test('args arrive as a list and result comes back as JSON', async () => {
    const res = await run(name('echo'), ['post_1', 2, { x: null }]);
    expect(JSON.parse(res.result)).toEqual({ args: ['post_1', 2, { x: null }], n: 3 });
    expect(res.attempts).toBe(1);
  });

  test('result may be any JSON value', async () => {
    const res = await run(name('types'));
    const expected = engine === 'python' ? '9007199254740993' : '9007199254740992';
    expect(res.result.endsWith(`${expected}]`)).toBe(true);
    expect(JSON.parse(res.result).slice(0, 7)).toEqual([null, true, 1, -2.5, 's', [1, 2], { a: { b: null } }]);
  });

  test('a script that sets no result answers null', async () => {
    expect(JSON.parse((await run(name('noResult'))).result)).toBeNull();
  });

  test('print / console.log are captured into logs', async () => {
    const res = await run(name('logs'));
    expect(res.logs[0]).toBe('hello 42');
    expect(res.logs[1]).toMatch(engine === 'python' ? /^\{'a': 1\}$/ : /^\{\s*"?a"?\s*:\s*1\s*\}$/);
  });

  test('get, put, delete, getMany and list see the run’s own writes, and the commit lands atomically', async () => {
    const bucket = `crud_${engine}`;
    await client.call('Put', { bucket, key: 'k3', value: '{"v":3}' });
    const res = await run(name('crud'), [bucket]);
    const out = JSON.parse(res.result);
    expect(out.seen).toEqual({ v: 1 });
    expect(out.gone).toBeNull();
    expect(out.many).toEqual([{ v: 1 }, null, { v: 3 }]);
    expect(out.listed).toEqual([
      ['k1', { v: 1 }],
      ['k3', { v: 3 }],
    ]);
    expect(out.same).toEqual({ v: 1 });
    expect(await get(bucket, 'k1')).toEqual({ v: 1 });
    expect(await get(bucket, 'k2')).toBeUndefined();
    const k1 = await client.call<{ mod_revision: number }>('Get', { bucket, key: 'k1' });
    expect(k1.mod_revision).toBe(res.revision);
    expect(res.writes.map((w) => [w.key, w.deleted])).toEqual([
      ['k1', false],
      ['k2', true],
    ]);
  });

  test('list honours prefix, limit and start_after', async () => {
    for (const key of ['p0', 'p1', 'p2', 'p3', 'q0']) await client.call('Put', { bucket: 'lst', key, value: '{}' });
    expect(JSON.parse((await run(name('list'))).result)).toEqual(['p2', 'p3']);
  });

  test('dry_run returns the result and the writes but commits nothing', async () => {
    const before = await get('c', 'n');
    const res = await run(name('counter'), [], { dry_run: true });
    expect(res.writes).toEqual([expect.objectContaining({ bucket: 'c', key: 'n', deleted: false })]);
    expect(await get('c', 'n')).toEqual(before);
  });

  test('a raising script fails with its exception type, message and line, returns its logs, and writes nothing', async () => {
    const err = await failure(run(name('raises')));
    expect(err.code).toBe(status.UNKNOWN);
    expect(errorCode(err)).toBe('SCRIPT_ERROR');
    expect(err.details).toContain(engine === 'python' ? 'KeyError' : 'TypeError');
    expect(err.details).toContain('missing thing');
    expect(err.details).toContain('line 2');
    const failed = await failure(run(name('raisesAfterWrite')));
    expect(JSON.parse(failed.metadata.get('lucien-script-logs')[0] as string)).toEqual(['about to fail']);
    expect(await get('fail', 'k')).toBeUndefined();
  });

  test('a script cannot write a non-object value or into a reserved bucket', async () => {
    expect((await failure(run(name('badValue')))).details).toMatch(/TypeError: .*(dict|plain object)/);
    expect((await failure(run(name('reserved')))).details).toMatch(/reserved/);
    expect(await get('_scripts', 'evil')).toBeUndefined();
  });

  test('a key with a lone surrogate is refused, never read or written as U+FFFD', async () => {
    const out = JSON.parse((await run(name('surrogate'))).result) as string[];
    expect(out).toEqual([expect.stringMatching(/lone surrogate/), expect.stringMatching(/lone surrogate/)]);
    expect(await get('sur', '\ufffd')).toEqual({ v: 1 });
  });

  test('a syntax error is refused at registration with INVALID_ARGUMENT and its line', async () => {
    const err = await failure(putScript(name('syntax'), engine, src.syntax));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorCode(err)).toBe('SCRIPT_SYNTAX');
    expect(err.details).toMatch(/line [23]/);
    expect((await failure(client.call('GetScript', { name: name('syntax') }))).code).toBe(status.NOT_FOUND);
  });

  test('args that are not a JSON array are INVALID_ARGUMENT', async () => {
    for (const args of ['{"a":1}', '"x"', '[1,', '42']) {
      const err = await failure(client.call('Run', { name: name('echo'), args }));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
    }
    expect(JSON.parse((await client.call<RunRes>('Run', { name: name('echo'), args: '' })).result)).toEqual({
      args: [],
      n: 0,
    });
  });
});

describe('script management', () => {
  test('PutScript, GetScript, ListScripts and DeleteScript', async () => {
    const { revision } = await client.call<{ revision: number }>('PutScript', {
      name: 'managed',
      engine: 'python',
      source: 'result = 1',
      description: 'one',
    });
    const script = await client.call<{
      name: string;
      engine: string;
      source: string;
      description: string;
      revision: number;
    }>('GetScript', { name: 'managed' });
    expect(script).toEqual({ name: 'managed', engine: 'python', source: 'result = 1', description: 'one', revision });
    const { scripts } = await client.call<{ scripts: { name: string }[] }>('ListScripts', {});
    expect(scripts.map((s) => s.name)).toContain('managed');
    expect((await client.call<{ deleted: boolean }>('DeleteScript', { name: 'managed' })).deleted).toBe(true);
    expect((await client.call<{ deleted: boolean }>('DeleteScript', { name: 'managed' })).deleted).toBe(false);
    expect((await failure(run('managed'))).code).toBe(status.NOT_FOUND);
  });

  test('a changed script runs its new source (the compiled cache follows the revision)', async () => {
    await putScript('changing', 'javascript', 'result = 1;');
    expect(JSON.parse((await run('changing')).result)).toBe(1);
    await putScript('changing', 'javascript', 'result = 2;');
    expect(JSON.parse((await run('changing')).result)).toBe(2);
  });

  test('PutScript honours if_revision for safe deploys', async () => {
    const { revision } = await putScript('deploy', 'python', 'result = 1');
    await client.call('PutScript', { name: 'deploy', engine: 'python', source: 'result = 2', if_revision: revision });
    const err = await failure(
      client.call('PutScript', { name: 'deploy', engine: 'python', source: 'result = 3', if_revision: revision }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(JSON.parse((await run('deploy')).result)).toBe(2);
  });

  test('unknown engine, bad name and empty source are INVALID_ARGUMENT', async () => {
    expect((await failure(putScript('x', 'ruby', 'puts 1'))).details).toMatch(/unknown engine "ruby"/);
    expect((await failure(putScript('bad name', 'python', 'result = 1'))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(putScript('empty', 'python', '   '))).code).toBe(status.INVALID_ARGUMENT);
  });

  test('the seed way: Put into _scripts registers with the same validation, Get returns the object', async () => {
    const value = JSON.stringify({ engine: 'python', script: 'result = {"success": True, "answer": 42}' });
    await client.call('Put', { bucket: '_scripts', key: 'the_ultimate_method', value });
    expect(
      JSON.parse(
        (await client.call<{ value: string }>('Get', { bucket: '_scripts', key: 'the_ultimate_method' })).value,
      ),
    ).toMatchObject({
      engine: 'python',
      script: 'result = {"success": True, "answer": 42}',
    });
    expect(JSON.parse((await run('the_ultimate_method')).result)).toEqual({ success: true, answer: 42 });
    const bad = await failure(
      client.call('Put', {
        bucket: '_scripts',
        key: 'broken',
        value: JSON.stringify({ engine: 'python', script: 'def (' }),
      }),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    const shape = await failure(client.call('Put', { bucket: '_scripts', key: 'shape', value: '{"engine":"python"}' }));
    expect(shape.code).toBe(status.INVALID_ARGUMENT);
  });

  test('Run of a missing script is NOT_FOUND', async () => {
    const err = await failure(run('no_such_script'));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toContain('no_such_script');
  });
});
