/**
 * Prefetched reads in the Python engine (engines/python/prefetch.ts), with
 * the real engine, the host's read cache and its cached bridge, in a child
 * process (Pyodide cannot load inside jest's VM): a repeated run takes its
 * reads from the prefetch without crossing, yet its read set is exactly what
 * it read; an answer prefetched but never asked for is neither recorded nor
 * reachable by the script; a run's own writes are never hidden by a
 * prefetched answer; long and non-ASCII values cross intact.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/server';

const DIST = join(ROOT, 'dist', 'engines');

/** What the child reports for each run. */
interface Report {
  ok: boolean;
  result?: unknown;
  /** The result's JSON text as the engine gave it. */
  resultText?: string;
  error?: unknown;
  /** Calls that reached the server (cache misses and writes). */
  upstream: string[];
  /** The read set the host would send back with the run. */
  readSet?: { keys: [string, number][]; calls: { get: number; getMany: number; list: number } };
  /** Characters handed to the sandbox ahead of the run, and requests it reported as taken. */
  prefetched: number;
  taken: number;
}

/**
 * Runs `steps` in a child: each step runs `source` (compiled once per
 * distinct source) with `args`, after optionally filling or invalidating the
 * host's cache (fill: raw key -> [JSON text, revision]; changed: raw keys).
 * The store the bridge answers misses from is `store` (raw key -> JSON text).
 */
async function runSteps(
  store: Record<string, string>,
  steps: {
    source: string;
    args?: string;
    revision?: number;
    changed?: string[];
    fill?: Record<string, [string, number]>;
  }[],
): Promise<Report[]> {
  const child = `
    const { PythonEngine } = require(${JSON.stringify(join(DIST, 'python', 'python-engine.js'))});
    const { CachedBridge } = require(${JSON.stringify(join(DIST, 'host', 'cached-bridge.js'))});
    const { HostReadCache } = require(${JSON.stringify(join(DIST, 'host', 'read-cache.js'))});
    const { formatRead } = require(${JSON.stringify(join(DIST, 'host', 'read-answer.js'))});
    (async () => {
      const chunks = [];
      for await (const chunk of process.stdin) chunks.push(chunk);
      const { store, steps } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const engine = await PythonEngine.load(${JSON.stringify(`${join(ROOT, 'node_modules', 'pyodide')}/`)});
      const cache = new HostReadCache(8 << 20);
      const compiled = new Map();
      const reports = [];
      let prefetched = 0, taken = 0;
      const begin = engine.prefetch.begin.bind(engine.prefetch);
      engine.prefetch.begin = (...a) => { const p = begin(...a); prefetched = p.length; return p; };
      const took = engine.prefetch.taken.bind(engine.prefetch);
      engine.prefetch.taken = (t) => { taken += t.length; took(t); };
      for (const step of steps) {
        cache.advance(step.revision ?? 1, step.changed ?? []);
        for (const [raw, [value, rev]] of Object.entries(step.fill ?? {})) cache.fill(raw, value, rev);
        if (!compiled.has(step.source)) compiled.set(step.source, engine.compile('t', step.source).compiled);
        const upstream = [];
        const server = { call(request) {
          upstream.push(request);
          const call = JSON.parse(request);
          if (call.op === 'read') return 'v' + formatRead(call.keys.map((k) => {
            const v = store[call.bucket + '/' + k];
            return v === undefined ? [0, 'null'] : [1, v];
          }));
          return 'vnull';
        } };
        const bridge = new CachedBridge(cache, server, 1000);
        prefetched = 0; taken = 0;
        const out = engine.run(compiled.get(step.source), step.args ?? '[]', bridge, { maxLogBytes: 1 << 20, maxResultBytes: 8 << 20 });
        reports.push({ ok: out.ok, result: out.ok ? JSON.parse(out.result) : undefined,
          resultText: out.ok ? out.result : undefined, error: out.ok ? undefined : out.error,
          upstream, readSet: bridge.readSet(), prefetched, taken });
      }
      process.stdout.write(JSON.stringify(reports));
    })().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });`;
  const stdout = await new Promise<string>((resolve, reject) => {
    const proc = execFile(
      process.execPath,
      ['-e', child],
      { timeout: 120_000, maxBuffer: 64 << 20 },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
    );
    proc.stdin?.end(JSON.stringify({ store, steps }));
  });
  return JSON.parse(stdout) as Report[];
}

const RENDER = `
b = buckets.getBucket("b")
first = b.get(args[0])
result = [first, [b.get(k) for k in first["next"]], b.getMany(["x", "y", "missing"])]
`;

test('a repeated run takes its reads from the prefetch, crosses nothing, and reports exactly the reads it made', async () => {
  const store = {
    'b/p': '{"next":["x","y"]}',
    'b/x': '{"v":"x"}',
    'b/y': '{"v":"y"}',
  };
  const expected = [{ next: ['x', 'y'] }, [{ v: 'x' }, { v: 'y' }], [{ v: 'x' }, { v: 'y' }, null]];
  const reports = await runSteps(store, [
    { source: RENDER, args: '["p"]' },
    { source: RENDER, args: '["p"]' },
    { source: RENDER, args: '["p"]' },
  ]);
  for (const r of reports) expect(r.result).toEqual(expected);
  // The first run fills the cache from the server; nothing to prefetch yet.
  expect(reports[0]?.upstream.length).toBeGreaterThan(0);
  expect(reports[0]?.prefetched).toBe(0);
  for (const r of reports.slice(1)) {
    expect(r.upstream).toEqual([]);
    expect(r.prefetched).toBeGreaterThan(0);
    expect(r.taken).toBe(4);
    expect(r.readSet?.calls).toEqual({ get: 3, getMany: 1, list: 0 });
    expect(new Map(r.readSet?.keys)).toEqual(
      new Map([
        ['b/p', 1],
        ['b/x', 1],
        ['b/y', 1],
        ['b/missing', 0],
      ]),
    );
  }
});

test('an answer prefetched but never asked for is not in the read set and cannot be reached by the script', async () => {
  const source = `
b = buckets.getBucket("b")
gate = b.get("gate")
secret = b.get("secret")["v"] if gate["open"] else None
seen = []
if secret is None:
    # Everything the API's namespace reaches, one level down, as text.
    space = type(b).get.__globals__
    for name, value in list(space.items()):
        seen.append(repr(value))
        for inner in getattr(value, "__dict__", {}).values():
            seen.append(repr(inner))
    try:
        space["_send"].__self__.gi_frame
        seen.append("frame reached")
    except PermissionError:
        pass
result = [gate["open"], secret, any("s3cret" in s for s in seen), "frame reached" in seen]
`;
  const reports = await runSteps({ 'b/gate': '{"open":true}', 'b/secret': '{"v":"s3cret"}' }, [
    { source },
    { source },
    // The gate closes (a commit at revision 2, as the server would sync it; the
    // cache then holds the new gate as a previous run at 2 would have left it).
    { source, revision: 2, changed: ['b/gate'], fill: { 'b/gate': ['{"open":false}', 2] } },
  ]);
  expect(reports[1]?.result).toEqual([true, 's3cret', false, false]);
  expect(new Map(reports[1]?.readSet?.keys)).toEqual(
    new Map([
      ['b/gate', 1],
      ['b/secret', 1],
    ]),
  );
  const closed = reports[2] as Report;
  // Both answers were handed over (the secret's too: the last run read it), only the gate was taken.
  expect(closed.prefetched).toBeGreaterThan('{"v":"s3cret"}'.length);
  expect(closed.taken).toBe(1);
  expect(closed.upstream).toEqual([]);
  expect(closed.result).toEqual([false, null, false, false]);
  expect(closed.readSet?.keys).toEqual([['b/gate', 2]]);
  expect(closed.readSet?.calls).toEqual({ get: 1, getMany: 0, list: 0 });
});

test('a run reads its own writes, not a prefetched answer, and its earlier prefetched read is recorded', async () => {
  const source = `
b = buckets.getBucket("b")
before = b.get("k")
b.put("k", {"n": before["n"] + 1})
result = [before, b.get("k")]
`;
  const reports = await runSteps({ 'b/k': '{"n":1}' }, [{ source }, { source }, { source }]);
  for (const r of reports) expect(r.result).toEqual([{ n: 1 }, { n: 2 }]);
  for (const r of reports.slice(1)) {
    expect(r.taken).toBe(1);
    // The put crossed (after the prefetched read was reported); the second get was answered from the run's own write.
    expect(r.upstream.map((u) => (JSON.parse(u) as { op: string }).op)).toEqual(['put']);
    expect(r.readSet?.keys).toEqual([['b/k', 1]]);
    expect(r.readSet?.calls).toEqual({ get: 2, getMany: 0, list: 0 });
  }
});

test('prefetches are per script and arguments, and long or non-ASCII values arrive intact', async () => {
  const big = JSON.stringify({ v: 'é☃😀'.repeat(40_000) });
  const small = JSON.stringify({ v: 'naïve — ünïcödé text, long enough for the inbox' });
  const read = 'result = buckets.getBucket("b").get(args[0])';
  const other = 'result = [buckets.getBucket("b").get(args[0]), 1]';
  const reports = await runSteps({ 'b/big': big, 'b/small': small }, [
    { source: read, args: '["big"]' },
    { source: read, args: '["big"]' },
    { source: read, args: '["small"]' },
    { source: read, args: '["small"]' },
    { source: other, args: '["small"]' },
  ]);
  expect(reports.map((r) => r.ok)).toEqual([true, true, true, true, true]);
  expect(reports[0]?.result).toEqual(JSON.parse(big));
  expect(reports[1]?.result).toEqual(JSON.parse(big));
  expect(reports[3]?.result).toEqual(JSON.parse(small));
  expect(reports[3]?.taken).toBe(1);
  // Other arguments, or another script, start with nothing prefetched.
  expect(reports[2]?.prefetched).toBe(0);
  expect(reports[4]?.prefetched).toBe(0);
  expect(reports[4]?.result).toEqual([JSON.parse(small), 1]);
});

test('values a script changes never change what a later get of the same key returns, in the same run or the next', async () => {
  const source = `
b = buckets.getBucket("b")
first = b.get("k")
first["v"].append(99)
first["n"] = 0
again = b.get("k")
pair = b.getMany(["k", "k"])
pair[0]["v"].append(7)
pair[0]["v"][0] = "changed"
result = [again, pair[1], b.get("k"), b.getMany(["k"])[0]]
`;
  const stored = { v: [1, { w: 2 }], n: 1 };
  const reports = await runSteps({ 'b/k': JSON.stringify(stored) }, [{ source }, { source }, { source }]);
  for (const r of reports) expect(r.result).toEqual([stored, stored, stored, stored]);
  // The runs after the first take every read from the prefetch (the same answers, parsed afresh each time).
  for (const r of reports.slice(1)) {
    expect(r.upstream).toEqual([]);
    expect(r.taken).toBeGreaterThan(0);
  }
});

test('getMany with missing keys, duplicates and many keys answers in order, and records each key once', async () => {
  const store: Record<string, string> = {};
  for (let i = 0; i < 300; i++) store[`b/k${i}`] = JSON.stringify({ i });
  const keys = [...Array.from({ length: 300 }, (_, i) => `k${i}`), 'k5', 'missing', 'k5', 'missing', 'k299'];
  const source = 'result = buckets.getBucket("b").getMany(args)';
  const args = JSON.stringify(keys);
  const expected = keys.map((k) => (store[`b/${k}`] === undefined ? null : JSON.parse(store[`b/${k}`] as string)));
  const reports = await runSteps(store, [
    { source, args },
    { source, args },
    { source, args },
  ]);
  for (const r of reports) expect(r.result).toEqual(expected);
  expect(reports[0]?.upstream.length).toBe(1);
  for (const r of reports.slice(1)) {
    expect(r.upstream).toEqual([]);
    expect(r.taken).toBe(1);
    expect(r.readSet?.calls).toEqual({ get: 0, getMany: 1, list: 0 });
    const recorded = new Map(r.readSet?.keys);
    expect(recorded.size).toBe(301);
    expect(recorded.get('b/k5')).toBe(1);
    expect(recorded.get('b/missing')).toBe(0);
  }
  // An empty getMany is an empty list.
  const [empty] = await runSteps(store, [{ source, args: '[]' }]);
  expect(empty?.result).toEqual([]);
});

test('every JSON value kind reaches the script and comes back exactly, read from the server or from the prefetch', async () => {
  // Compact, in the form Python's encoder writes (floats as repr, non-ASCII as is).
  const value =
    '{"int":-7,"zero":0,"big":123456789012345678901234567890,"neg_big":-9007199254740993,' +
    '"float":1.5,"tenth":0.1,"tiny":5e-324,"huge":1e+100,"negzero":-0.0,"whole":3.0,' +
    '"t":true,"f":false,"none":null,"empty_s":"","escapes":"q\\"b\\\\n\\nt\\tc\\u0001",' +
    '"unicode":"é☃😀","nested":[[],{},[1,[2,[3,{"d":[4]}]]]],"dup":{"a":1,"b":[1.25,-2]}}';
  const source = `
v = buckets.getBucket("b").get("k")
kinds = sorted({type(x).__name__ for x in v.values()})
result = [v, kinds, type(v["whole"]).__name__, type(v["big"]).__name__]
`;
  const reports = await runSteps({ 'b/k': value }, [{ source }, { source }, { source }]);
  for (const r of reports) {
    expect(r.ok).toBe(true);
    expect(r.resultText).toBe(`[${value},["NoneType","bool","dict","float","int","list","str"],"float","int"]`);
  }
  expect(reports[2]?.upstream).toEqual([]);
});

test('a lone surrogate in a stored string reaches the script as one code point and comes back as it was', async () => {
  const source = `
v = buckets.getBucket("b").get("k")
result = [v, len(v["s"]), [hex(ord(c)) for c in v["s"]]]
`;
  const reports = await runSteps({ 'b/k': '{"s":"a\\ud800b"}' }, [{ source }, { source }]);
  for (const r of reports) expect(r.result).toEqual([{ s: 'a\ud800b' }, 3, ['0x61', '0xd800', '0x62']]);
});

test('a circular result fails as before, and the next run of the same script encodes shared values', async () => {
  const source = `
if args[0]:
    a = []
    a.append(a)
    result = a
else:
    x = [1]
    result = [x, x, {"k": x}]
`;
  const reports = await runSteps({}, [
    { source, args: '[true]' },
    { source, args: '[false]' },
    { source, args: '[true]' },
    { source, args: '[false]' },
  ]);
  for (const r of [reports[0], reports[2]]) {
    expect(r?.ok).toBe(false);
    expect(r?.error).toMatchObject({ kind: 'error', type: 'ValueError', message: 'Circular reference detected' });
  }
  for (const r of [reports[1], reports[3]]) expect(r?.resultText).toBe('[[1],[1],{"k":[1]}]');
});

test('with many prefetched answers (parsed at once), each read still gets its own object, and one value that cannot parse fails only its own read', async () => {
  const store: Record<string, string> = { 'b/bad': `{"n":${'9'.repeat(5000)}}` };
  for (let i = 0; i < 12; i++) store[`b/k${i}`] = JSON.stringify({ i, list: [i] });
  const source = `
b = buckets.getBucket("b")
seen = []
for i in range(12):
    v = b.get("k%d" % i)
    v["list"].append("mutated")
    seen.append(v)
again = [b.get("k%d" % i) for i in range(12)]
try:
    b.get("bad")
    bad = "parsed"
except ValueError as e:
    bad = type(e).__name__
result = [again, len(seen), bad]
`;
  const values = Array.from({ length: 12 }, (_, i) => ({ i, list: [i] }));
  // All parse at once (bad is absent: None), or none does (bad holds an int too long for int()).
  const { 'b/bad': bad, ...good } = store;
  for (const [data, outcome] of [
    [good, 'parsed'],
    [{ ...good, 'b/bad': bad as string }, 'ValueError'],
  ] as const) {
    const reports = await runSteps(data, [{ source }, { source }, { source }]);
    for (const r of reports) expect(r.result).toEqual([values, 12, outcome]);
    for (const r of reports.slice(1)) {
      expect(r.upstream).toEqual([]);
      expect(r.taken).toBe(25);
      expect(r.readSet?.keys).toHaveLength(13);
    }
  }
});
