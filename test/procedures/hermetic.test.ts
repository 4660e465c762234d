/**
 * Hermetic runs, through a real server with one engine host per language (so
 * every run below shares its host with every other): no script can see,
 * change or hook another script's run.
 *
 * - Differential: probe scripts fingerprint what a run can observe; each
 *   mutator of the corpus (hermetic-corpus.ts) runs, then every probe must
 *   answer exactly as it did on the fresh host.
 * - Takeovers: the bridge swapped through the bucket API, code planted where
 *   the compile path would run it unaudited, JavaScript reached through an
 *   error's constructor chain.
 * - Randomness: five Math.random numbers of one run do not predict the next
 *   run's (an xorshift128+ solver that does predict V8's own generator).
 */
import { connect, errorCode, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';
import { predictNeighbours } from '../helpers/xorshift-predict';
import { JS_MUTATORS, JS_PROBES, PY_MUTATORS, PY_PROBES, WALK } from './hermetic-corpus';

jest.setTimeout(120_000);

/** The server of the describe block running now: each block starts its own, so each starts on fresh hosts. */
let client: TestClient;
let scripts = 0;

type Outcome = { ok: true; result: unknown } | { ok: false; code: string | undefined; details: string };

function freshServer(): void {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startServer({ args: ['--backend', 'memory', '--engine-pool', '1'] });
    client = connect(server.address);
    await client.call('Put', { bucket: 'live', key: 'k', value: '{"alive":true}' });
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
    server?.cleanup();
  });
}

async function register(engine: string, source: string): Promise<string> {
  const name = `s${++scripts}_${engine.slice(0, 2)}`;
  await client.call('PutScript', { name, engine, source });
  return name;
}

async function run(name: string): Promise<Outcome> {
  try {
    const res = await client.call<{ result: string }>('Run', { name, args: '[]', timeout_ms: 30_000 });
    return { ok: true, result: JSON.parse(res.result) };
  } catch (err) {
    const e = err as Parameters<typeof errorCode>[0];
    return { ok: false, code: errorCode(e), details: e.details };
  }
}

async function once(engine: string, source: string): Promise<Outcome> {
  return run(await register(engine, source));
}

describe("no script takes over another script's runs", () => {
  freshServer();
  const victim = 'result = buckets.getBucket("live").get("k")';

  test('swapping the bridge behind the bucket API (closure cells, globals) reaches no other script', async () => {
    const attacker = await register(
      'python',
      `
fn = type(buckets.getBucket('live')).get
def evil(*a, **k):
    return {'pwned': True}
done = []
for c in (fn.__closure__ or ()):
    if getattr(c.cell_contents, '__name__', '') == 'call':
        c.cell_contents = evil
        done.append('cell')
for k, v in list(fn.__globals__.items()):
    if getattr(v, '__name__', '') in ('_call', 'call', 'send'):
        fn.__globals__[k] = evil
        done.append('global')
result = [done, buckets.getBucket('live').get('k')]
`,
    );
    const own = await run(attacker);
    // The swap may work inside the attacker's own run; never outside it.
    expect(own.ok).toBe(true);
    const victimName = await register('python', victim);
    for (let i = 0; i < 3; i++) {
      expect(await run(victimName)).toEqual({ ok: true, result: { alive: true } });
      await run(attacker);
    }
  });

  test('code planted by a run never runs unaudited when another script compiles', async () => {
    // The planted function keeps what it needs in a default argument: the
    // attacker's globals are cleared when its run ends.
    const attacker = await register(
      'python',
      `${WALK}
import json
box = {'m': json.dumps, 'b': real_builtins}
def planted(*a, _box=box, **k):
    try:
        _box['m'].stolen = _box['b']['__import__']('os').listdir('/')
    except BaseException as e:
        _box['m'].refused = type(e).__name__
    return _box['o'](*a, **k)
for c in (type(buckets.getBucket('x')).put.__closure__ or ()):
    if getattr(c.cell_contents, '__name__', '') == 'encode':
        box['o'] = c.cell_contents
        c.cell_contents = planted
g = type(buckets.getBucket('x')).put.__globals__
if '_encode' in g:
    box['o'] = g['_encode']
    g['_encode'] = planted
box.setdefault('o', compile)
real_builtins['compile'] = planted
result = 'o' in box
`,
    );
    await run(attacker);
    // A new script makes the host compile; then look for what the planted code left.
    await once('python', 'result = 1');
    const look = await once(
      'python',
      'import json\nresult = [getattr(json.dumps, "stolen", None), getattr(json.dumps, "refused", None)]',
    );
    expect(look).toEqual({ ok: true, result: [null, null] });
    // And the audit hook still refuses what it refused before.
    const after = await once('python', `${WALK}result = real_builtins['__import__']('os').listdir('/')`);
    expect(after).toMatchObject({ ok: false, code: 'SCRIPT_ERROR' });
    expect(after.ok ? '' : after.details).toMatch(/PermissionError: sandbox: os.listdir is not allowed/);
  });

  test('JavaScript objects of the Python host stay out of reach (no bridge proxy, no error constructor chain)', async () => {
    const outcome = await once(
      'python',
      `
fn = type(buckets.getBucket('x')).get
raw = None
for c in (fn.__closure__ or ()):
    v = c.cell_contents
    for c2 in (getattr(v, '__closure__', None) or ()):
        if 'Js' in type(c2.cell_contents).__name__:
            raw = c2.cell_contents
if raw is None:
    pump = fn.__globals__['_send'].__self__
    raw = pump.gi_frame.f_locals['bridge']
try:
    raw.new()
except Exception as e:
    proto = e.js_error.constructor.prototype
    proto.planted = 'yes'
result = 'planted'
`,
    );
    expect(outcome).toMatchObject({ ok: false, code: 'SCRIPT_ERROR' });
    expect(outcome.ok ? '' : outcome.details).toMatch(/PermissionError: sandbox: object.__getattr__ is not allowed/);
  });
});

describe('the corpus', () => {
  freshServer();
  describe.each([
    ['python', PY_PROBES, PY_MUTATORS],
    ['javascript', JS_PROBES, JS_MUTATORS],
  ] as const)('%s: no run changes what a later run of another script observes', (engine, probes, mutators) => {
    const probeNames: string[] = [];
    const baseline: Outcome[] = [];

    beforeAll(async () => {
      for (const [, source] of probes) probeNames.push(await register(engine, source));
      for (const name of probeNames) baseline.push(await run(name));
    });

    test('the probes answer, and answer alike twice on a fresh host', async () => {
      for (const outcome of baseline) expect(outcome.ok).toBe(true);
      for (let i = 0; i < probeNames.length; i++) expect(await run(probeNames[i] as string)).toEqual(baseline[i]);
    });

    test.each(mutators)('%s', async (_label, source) => {
      const mutator = await register(engine, source);
      // Twice: a change may only stick once something it set up runs again.
      await run(mutator);
      await run(mutator);
      for (let i = 0; i < probeNames.length; i++) {
        expect({ probe: probes[i]?.[0], outcome: await run(probeNames[i] as string) }).toEqual({
          probe: probes[i]?.[0],
          outcome: baseline[i],
        });
      }
    });
  });
});

describe('fresh randomness per run', () => {
  freshServer();

  test("five Math.random numbers of one run do not predict the next run's", async () => {
    const draw = 'result = [Math.random(), Math.random(), Math.random(), Math.random(), Math.random()];';
    const attacker = await register('javascript', draw);
    const victimName = await register('javascript', draw);
    for (let i = 0; i < 3; i++) {
      const seen = await run(attacker);
      const next = await run(victimName);
      if (!seen.ok || !next.ok) throw new Error('draw failed');
      const predicted = predictNeighbours(seen.result as number[]);
      expect((next.result as number[]).filter((x) => predicted.has(x))).toEqual([]);
    }
  });

  test("Python's random is reseeded per run too", async () => {
    const draw = 'import random\nresult = [random.random() for _ in range(5)]';
    const a = await once('python', draw);
    const b = await once('python', draw);
    expect(a.ok && b.ok).toBe(true);
    expect(a).not.toEqual(b);
  });
});
