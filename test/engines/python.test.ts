/**
 * The Python engine against DESIGN §4: every script global, the seed's
 * render_post verbatim, compile and runtime failures and limits (costs are
 * measured by npm run bench, not here). One real host process (Pyodide under Node's permission model) serves
 * the whole file.
 */
import type { HostProcess } from '../../src/procedures/host-process';
import { FakeBridge, LIMITS, resultOf, runPython, startPythonHost } from './python-harness';

let host: HostProcess;

beforeAll(async () => {
  host = await startPythonHost();
});
afterAll(() => host?.kill());

describe('Python script globals', () => {
  test('get returns a dict, or None for a missing key', async () => {
    const bridge = new FakeBridge({ posts: { a: { title: 'A', n: 1 } } });
    expect(
      await resultOf(host, 'b = buckets.getBucket("posts")\nresult = [b.get("a"), b.get("zz")]', { bridge }),
    ).toEqual([{ title: 'A', n: 1 }, null]);
  });

  test('buckets["name"] is the same handle as getBucket', async () => {
    const bridge = new FakeBridge({ posts: { a: { x: 1 } } });
    expect(await resultOf(host, 'result = buckets["posts"].get("a")', { bridge })).toEqual({ x: 1 });
  });

  test('getMany answers in one bridge call with dict or None per key', async () => {
    const bridge = new FakeBridge({ p: { a: { v: 1 }, c: { v: 3 } } });
    expect(await resultOf(host, 'result = buckets.getBucket("p").getMany(["a", "b", "c"])', { bridge })).toEqual([
      { v: 1 },
      null,
      { v: 3 },
    ]);
    expect(bridge.calls).toEqual([{ op: 'getMany', bucket: 'p', keys: ['a', 'b', 'c'] }]);
  });

  test('put sends the dict as JSON text and later reads see it', async () => {
    const bridge = new FakeBridge();
    const done = await runPython(
      host,
      'b = buckets.getBucket("p")\nb.put("k", {"a": [1, 2.5, None, True], "s": "é"})\nresult = b.get("k")',
      { bridge },
    );
    expect(done.ok && JSON.parse(done.result)).toEqual({ a: [1, 2.5, null, true], s: 'é' });
    expect(bridge.writes).toEqual([{ bucket: 'p', key: 'k', value: '{"a":[1,2.5,null,true],"s":"é"}' }]);
  });

  test('put of anything but a dict raises TypeError and writes nothing', async () => {
    const bridge = new FakeBridge();
    const done = await runPython(host, 'buckets.getBucket("p").put("k", [1, 2])', { bridge });
    expect(done).toMatchObject({ ok: false, error: { kind: 'error', type: 'TypeError', line: 1 } });
    expect(bridge.writes).toEqual([]);
  });

  test('delete removes the key', async () => {
    const bridge = new FakeBridge({ p: { k: { x: 1 } } });
    expect(
      await resultOf(host, 'b = buckets.getBucket("p")\nb.delete("k")\nresult = b.get("k")', { bridge }),
    ).toBeNull();
    expect(bridge.writes).toEqual([{ bucket: 'p', key: 'k', value: null }]);
  });

  test('list returns (key, value) tuples honouring prefix, limit and start_after', async () => {
    const bridge = new FakeBridge({ p: { a1: { i: 1 }, a2: { i: 2 }, a3: { i: 3 }, b1: { i: 4 } } });
    const script =
      'b = buckets.getBucket("p")\nxs = b.list(prefix="a", limit=2, start_after="a1")\nresult = [list(xs[0]), type(xs[0]).__name__, len(b.list())]';
    expect(await resultOf(host, script, { bridge })).toEqual([['a2', { i: 2 }], 'tuple', 4]);
    expect(bridge.calls[0]).toEqual({ op: 'list', bucket: 'p', prefix: 'a', limit: 2, startAfter: 'a1' });
    expect(bridge.calls[1]).toEqual({ op: 'list', bucket: 'p', prefix: '', limit: 100, startAfter: null });
  });

  test('args is the JSON array as a Python list', async () => {
    expect(await resultOf(host, 'result = [type(args).__name__, args]', { args: '[1, "two", {"three": 3}]' })).toEqual([
      'list',
      [1, 'two', { three: 3 }],
    ]);
  });

  test.each([
    ['pass', null],
    ['result = None', null],
    ['result = True', true],
    ['result = 42', 42],
    ['result = 1.5', 1.5],
    ['result = "text"', 'text'],
    ['result = [1, "a", None]', [1, 'a', null]],
    ['result = {"a": {"b": []}}', { a: { b: [] } }],
  ])('the answer is the global result: %s', async (script, expected) => {
    expect(await resultOf(host, script)).toEqual(expected);
  });

  test('print is captured into logs, one entry per call, without the newline', async () => {
    const done = await runPython(host, 'print("a", 1)\nprint("b", "c", sep="-")\nprint()\nprint("no", end="")');
    expect(done).toMatchObject({ ok: true, logs: ['a 1', 'b-c', '', 'no'] });
  });

  test('integers round-trip exactly (2**53 + 1 in and out, no float drift)', async () => {
    const bridge = new FakeBridge();
    bridge.setRaw('p', 'big', '{"n":9007199254740993}');
    const done = await runPython(
      host,
      'b = buckets["p"]\nn = b.get("big")["n"]\nb.put("out", {"n": n + 1, "m": 2**70})\nresult = [n, type(n).__name__]',
      { bridge },
    );
    expect(done).toMatchObject({ ok: true, result: '[9007199254740993,"int"]' });
    expect(bridge.writes[0]?.value).toBe('{"n":9007199254740994,"m":1180591620717411303424}');
  });

  test('a bridge error raises LucienError with its message, which scripts can catch', async () => {
    const done = await runPython(host, 'buckets["forbidden"].get("k")');
    expect(done).toMatchObject({
      ok: false,
      error: { kind: 'error', type: 'LucienError', message: 'bucket forbidden is reserved', line: 1 },
    });
    expect(
      await resultOf(host, 'try:\n    buckets["forbidden"].get("k")\nexcept LucienError as e:\n    result = str(e)'),
    ).toBe('bucket forbidden is reserved');
  });
});

describe("the seed's render_post", () => {
  // The seed readme lost some lines of this script; restored faithfully.
  const RENDER_POST = `
posts = buckets.getBucket("posts")
comments = buckets.getBucket("comments")
users = buckets.getBucket("users")

post_1 = dict(posts.get("post_1"))

result = post_1

comment_list = list()
for comment_key in post_1['comments']:
    comment = dict(comments.get(comment_key))
    user_key = comment['user_key']
    user = dict(users.get(user_key))
    comment['user'] = user
    comment_list.append(comment)

result['comments'] = comment_list
`;

  test('runs unchanged and returns the post with its comments and their users', async () => {
    const bob = { name: 'Bob The Guy', email: 'bob@gmail.com' };
    const dave = { name: 'David King', email: 'dave@gmail.com' };
    const bridge = new FakeBridge({
      posts: { post_1: { title: 'Some entry', content: "It's really cool", comments: ['comment_1', 'comment_2'] } },
      comments: {
        comment_1: { comment: 'This is an insightful comment!', user_key: 'bob' },
        comment_2: { comment: 'This is a boring comment!', user_key: 'dave' },
      },
      users: { bob, dave },
    });
    expect(await resultOf(host, RENDER_POST, { bridge, args: '["post_1"]' })).toEqual({
      title: 'Some entry',
      content: "It's really cool",
      comments: [
        { comment: 'This is an insightful comment!', user_key: 'bob', user: bob },
        { comment: 'This is a boring comment!', user_key: 'dave', user: dave },
      ],
    });
    expect(bridge.writes).toEqual([]);
  });
});

describe('Python failures', () => {
  test('a syntax error is reported at compile time with its line', async () => {
    const compiled = await host.compile('bad', 'x = 1\ny = (\nz = 3 +\n');
    expect(compiled).toMatchObject({ ok: false, error: { kind: 'syntax', type: 'SyntaxError' } });
    expect(!compiled.ok && compiled.error.line).toBeGreaterThanOrEqual(2);
    expect(await host.compile('good', 'result = 1')).toMatchObject({ ok: true });
  });

  test('a runtime error reports type, message and the line in the script', async () => {
    const done = await runPython(host, 'def f(d):\n    return d["missing"]\n\nx = 1\nf({})\n');
    expect(done).toMatchObject({
      ok: false,
      error: { kind: 'error', type: 'KeyError', message: "'missing'", line: 2 },
    });
  });

  test('logs printed before a failure come back with it', async () => {
    const done = await runPython(host, 'print("before")\nraise ValueError("boom")');
    expect(done).toMatchObject({
      ok: false,
      error: { type: 'ValueError', message: 'boom', line: 2 },
      logs: ['before'],
    });
  });

  test('a result that is not JSON is a TypeError', async () => {
    expect(await runPython(host, 'result = {1, 2}')).toMatchObject({
      ok: false,
      error: { kind: 'error', type: 'TypeError' },
    });
    expect(await runPython(host, 'result = float("nan")')).toMatchObject({
      ok: false,
      error: { kind: 'error', type: 'ValueError' },
    });
  });

  test('logs over maxLogBytes end the run with kind limit', async () => {
    const done = await runPython(host, 'while True:\n    print("x" * 100)', {
      limits: { ...LIMITS, maxLogBytes: 1000 },
    });
    expect(done).toMatchObject({ ok: false, error: { kind: 'limit', type: 'LogsTooLarge' } });
    expect(done.logs.length).toBeLessThanOrEqual(10);
  });

  test('catching the log limit does not get around it', async () => {
    const done = await runPython(
      host,
      'for i in range(100):\n    try:\n        print("x" * 100)\n    except BaseException:\n        pass\nresult = 1',
      {
        limits: { ...LIMITS, maxLogBytes: 1000 },
      },
    );
    expect(done).toMatchObject({ ok: false, error: { kind: 'limit' } });
  });

  test('a result over maxResultBytes ends the run with kind limit', async () => {
    const done = await runPython(host, 'result = "x" * 5000', { limits: { ...LIMITS, maxResultBytes: 1000 } });
    expect(done).toMatchObject({ ok: false, error: { kind: 'limit', type: 'ResultTooLarge' } });
  });

  test('a compiled script runs many times from the cache without its source', async () => {
    const bridge = new FakeBridge();
    const run = { key: 'cached-1', name: 'c', source: 'result = args[0] * 2', args: '[21]', limits: LIMITS };
    expect(await host.run(run, bridge.onCall)).toMatchObject({ ok: true, result: '42' });
    // Not sent again (the server knows the host holds it): a broken source here would not compile.
    expect(await host.run({ ...run, source: 'this does not compile (((', args: '[5]' }, bridge.onCall)).toMatchObject({
      ok: true,
      result: '10',
    });
  });
});

test('the host booted from the build’s memory snapshot (its read paths let it read the file)', () => {
  expect(host.ready?.version).toMatch(/^pyodide \S+ \(from memory snapshot\)$/);
});
