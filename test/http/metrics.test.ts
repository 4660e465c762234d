/**
 * /metrics counts exactly what happened: a known sequence of rpcs and script
 * runs (ok, dry, raised, over a limit, timed out) gives exact counters by
 * method, code, script, engine, outcome and bucket operation; the timed-out
 * run's host shows up as a restart; Watch streams are counted while open.
 * The same runs feed GetScriptStats and the slow-run log over gRPC. With
 * metrics off, /metrics is gone and the statistics remain.
 */
import { request as httpRequest } from 'node:http';
import { connect, failure, type TestClient } from '../helpers/client';
import { freePort } from '../../scripts/lib/free-port';
import { request } from '../helpers/http';
import { type RunningServer, startServer } from '../helpers/server';

jest.setTimeout(120_000);

const SCRIPTS = [
  {
    name: 'incr',
    engine: 'javascript',
    source:
      'const b = buckets.getBucket("counters");\nconst cur = b.get(args[0]) || { n: 0 };\nb.put(args[0], { n: cur.n + 1 });\nresult = cur.n + 1;\n',
  },
  {
    name: 'pair',
    engine: 'python',
    source:
      'b = buckets.getBucket("counters")\nvals = b.getMany(["a", "b"])\nprint("pair", len(vals))\nresult = len(vals)\n',
  },
  { name: 'boom', engine: 'python', source: 'x = 1\nraise ValueError("boom")\n' },
  { name: 'big', engine: 'javascript', source: 'result = "x".repeat(5000);\n' },
  { name: 'spin', engine: 'javascript', source: 'while (true) {}\n' },
];

/** The value of one sample, e.g. sample(text, 'lucien_rpc_requests_total', {method: 'Get', code: 'OK'}). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (want.every(([k, v]) => have.get(k) === v) && have.size === want.length) return Number(m[3]);
  }
  return undefined;
}

describe('with metrics on', () => {
  let server: RunningServer;
  let client: TestClient;
  let base: string;
  let text: string;
  let lastRevision: number;

  beforeAll(async () => {
    const httpPort = await freePort();
    server = await startServer({
      args: [
        '--http-port',
        String(httpPort),
        '--max-result-bytes',
        '1000',
        '--slow-run-ms',
        '0',
        '--slow-run-log-size',
        '4',
      ],
    });
    base = `http://127.0.0.1:${httpPort}`;
    client = connect(server.address);

    for (const s of SCRIPTS) await client.call('PutScript', { ...s, description: '' });
    for (let i = 0; i < 3; i++) await client.call('Run', { name: 'incr', args: '["a"]' });
    await client.call('Run', { name: 'incr', args: '["a"]', dry_run: true });
    for (let i = 0; i < 2; i++) await client.call('Run', { name: 'pair', args: '' });
    await failure(client.call('Run', { name: 'boom', args: '[]' }));
    await failure(client.call('Run', { name: 'big', args: '[]' }));
    await failure(client.call('Run', { name: 'spin', args: '[]', timeout_ms: 300 }));
    await failure(client.call('Run', { name: 'nosuch', args: '[]' }));
    for (let i = 0; i < 2; i++) await client.call('Get', { bucket: 'counters', key: 'a' });
    await failure(client.call('Get', { bucket: 'counters', key: 'zzz' }));
    lastRevision = (await client.call<{ revision: number }>('Put', { bucket: 'counters', key: 'b', value: '{"n":0}' }))
      .revision;
    const res = await request(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = res.text;
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('rpc counters and histograms count every call by method and status code', () => {
    const rpc = (method: string, code: string) => sample(text, 'lucien_rpc_requests_total', { method, code });
    expect(rpc('PutScript', 'OK')).toBe(5);
    expect(rpc('Run', 'OK')).toBe(6);
    expect(rpc('Run', 'UNKNOWN')).toBe(1);
    expect(rpc('Run', 'RESOURCE_EXHAUSTED')).toBe(1);
    expect(rpc('Run', 'DEADLINE_EXCEEDED')).toBe(1);
    expect(rpc('Run', 'NOT_FOUND')).toBe(1);
    expect(rpc('Get', 'OK')).toBe(2);
    expect(rpc('Get', 'NOT_FOUND')).toBe(1);
    expect(rpc('Put', 'OK')).toBe(1);
    expect(rpc('Delete', 'OK')).toBeUndefined();
    expect(sample(text, 'lucien_rpc_duration_seconds_count', { method: 'Run' })).toBe(10);
    expect(sample(text, 'lucien_rpc_duration_seconds_count', { method: 'Get' })).toBe(3);
    expect(sample(text, 'lucien_rpc_duration_seconds_bucket', { method: 'Get', le: '+Inf' })).toBe(3);
  });

  test('script runs are counted by script, engine and outcome, with attempts and bucket calls', () => {
    const runs = (script: string, engine: string, outcome: string) =>
      sample(text, 'lucien_script_runs_total', { script, engine, outcome });
    expect(runs('incr', 'javascript', 'ok')).toBe(4);
    expect(runs('pair', 'python', 'ok')).toBe(2);
    expect(runs('boom', 'python', 'error')).toBe(1);
    expect(runs('big', 'javascript', 'limit')).toBe(1);
    expect(runs('spin', 'javascript', 'timeout')).toBe(1);
    expect(text).not.toMatch(/script="nosuch"/);
    expect(sample(text, 'lucien_script_run_duration_seconds_count', { script: 'incr', engine: 'javascript' })).toBe(4);
    expect(sample(text, 'lucien_script_attempts_total', { script: 'incr' })).toBe(4);
    expect(sample(text, 'lucien_script_attempts_total', { script: 'pair' })).toBe(2);
    const calls = (script: string, op: string) => sample(text, 'lucien_script_bridge_calls_total', { script, op });
    expect(calls('incr', 'get')).toBe(4);
    expect(calls('incr', 'put')).toBe(4);
    expect(calls('pair', 'getMany')).toBe(2);
    expect(calls('pair', 'get')).toBeUndefined();
  });

  test('engine, store and process gauges', () => {
    expect(sample(text, 'lucien_engine_host_restarts_total', { engine: 'javascript', reason: 'timeout' })).toBe(1);
    expect(sample(text, 'lucien_engine_host_restarts_total', { engine: 'python', reason: 'timeout' })).toBeUndefined();
    for (const engine of ['javascript', 'python']) {
      const hosts = ['starting', 'idle', 'busy'].map(
        (state) => sample(text, 'lucien_engine_hosts', { engine, state }) ?? NaN,
      );
      expect(hosts.reduce((a, b) => a + b, 0)).toBe(1);
    }
    expect(sample(text, 'lucien_engine_resident_bytes', { engine: 'python' })).toBeGreaterThan(10 * 2 ** 20);
    expect(sample(text, 'lucien_store_revision')).toBe(lastRevision);
    expect(sample(text, 'lucien_store_keys', { bucket: 'counters' })).toBe(2);
    expect(sample(text, 'lucien_store_keys', { bucket: '_scripts' })).toBe(5);
    expect(sample(text, 'lucien_watch_streams')).toBe(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  test('GetScriptStats: calls, errors by kind, percentiles and the last error with its line', async () => {
    const all = await client.call<{ scripts: Record<string, unknown>[] }>('GetScriptStats', {});
    expect(all.scripts.map((s) => s.name)).toEqual(['big', 'boom', 'incr', 'pair', 'spin']);
    const {
      scripts: [boom],
    } = await client.call<{ scripts: Record<string, unknown>[] }>('GetScriptStats', { name: 'boom' });
    expect(boom).toMatchObject({
      name: 'boom',
      engine: 'python',
      calls: 1,
      ok: 0,
      errors: 1,
      last_error_line: 2,
      last_error_code: 'SCRIPT_ERROR',
    });
    expect(boom?.last_error).toMatch(/ValueError: boom/);
    expect(boom?.last_error_unix_ms).toBeGreaterThan(Date.now() - 120_000);
    const {
      scripts: [incr],
    } = await client.call<{ scripts: Record<string, number>[] }>('GetScriptStats', { name: 'incr' });
    expect(incr).toMatchObject({ calls: 4, ok: 4, errors: 0, attempts: 4, bridge_calls: 8, last_error: '' });
    expect(incr?.p50_ms).toBeGreaterThan(0);
    expect(incr?.p99_ms).toBeGreaterThanOrEqual(incr?.p50_ms as number);
    expect(incr?.max_ms).toBeGreaterThanOrEqual(incr?.p99_ms as number);
    const {
      scripts: [spin],
    } = await client.call<{ scripts: Record<string, number>[] }>('GetScriptStats', { name: 'spin' });
    expect(spin).toMatchObject({ calls: 1, timeouts: 1 });
    expect((await client.call<{ scripts: unknown[] }>('GetScriptStats', { name: 'nosuch' })).scripts).toEqual([]);
  });

  test('GetSlowRuns keeps the newest runs over the threshold in a bounded ring', async () => {
    const log = await client.call<{ runs: Record<string, unknown>[]; threshold_ms: number; capacity: number }>(
      'GetSlowRuns',
      {},
    );
    expect(log.threshold_ms).toBe(0);
    expect(log.capacity).toBe(4);
    expect(log.runs.map((r) => [r.id, r.script, r.outcome])).toEqual([
      [9, 'spin', 'timeout'],
      [8, 'big', 'limit'],
      [7, 'boom', 'error'],
      [6, 'pair', 'ok'],
    ]);
    expect(log.runs[3]).toMatchObject({
      engine: 'python',
      attempts: 1,
      bridge_calls: 1,
      args: '[]',
      logs: ['pair 2'],
      dry_run: false,
    });
    expect((await client.call<{ runs: unknown[] }>('GetSlowRuns', { limit: 2 })).runs).toHaveLength(2);
  });

  test('open Watch streams are counted while open', async () => {
    const stream = client.raw.Watch({ bucket: 'counters', prefix: '', start_revision: 0 });
    stream.on('error', () => undefined);
    const streams = async () => sample((await request(`${base}/metrics`)).text, 'lucien_watch_streams');
    const until = async (n: number) => {
      const deadline = Date.now() + 20_000;
      while ((await streams()) !== n) {
        if (Date.now() > deadline) throw new Error(`lucien_watch_streams never reached ${n}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(1);
    stream.cancel();
    await until(0);
    expect(
      sample((await request(`${base}/metrics`)).text, 'lucien_rpc_requests_total', {
        method: 'Watch',
        code: 'CANCELLED',
      }),
    ).toBe(1);
  });

  test('a run whose caller gave up before it failed counts as cancelled', async () => {
    const err = await new Promise<{ code: number }>((resolve) => {
      client.raw.Run({ name: 'spin', args: '[]', timeout_ms: 1500 }, { deadline: Date.now() + 300 }, (e) =>
        resolve(e as unknown as { code: number }),
      );
    });
    expect(err.code).toBe(4); // DEADLINE_EXCEEDED, from the client's own deadline
    const deadline = Date.now() + 20_000;
    let text = '';
    while (
      sample(text, 'lucien_script_runs_total', { script: 'spin', engine: 'javascript', outcome: 'cancelled' }) !== 1
    ) {
      if (Date.now() > deadline) throw new Error(`no cancelled run:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
      text = (await request(`${base}/metrics`)).text;
    }
    expect(sample(text, 'lucien_script_runs_total', { script: 'spin', engine: 'javascript', outcome: 'timeout' })).toBe(
      1,
    );
    // The caller's deadline stopped the run at once (issue 10): its host is counted lost to a cancel, not to the run's own limit.
    expect(sample(text, 'lucien_engine_host_restarts_total', { engine: 'javascript', reason: 'timeout' })).toBe(1);
    expect(sample(text, 'lucien_engine_host_restarts_total', { engine: 'javascript', reason: 'cancelled' })).toBe(1);
    const {
      scripts: [spin],
    } = await client.call<{ scripts: Record<string, number>[] }>('GetScriptStats', { name: 'spin' });
    expect(spin).toMatchObject({ calls: 2, timeouts: 1, cancelled: 1 });
  });

  test('/healthz answers ok while serving', async () => {
    const res = await request(`${base}/healthz`);
    expect([res.status, res.text]).toEqual([200, 'ok\n']);
  });
});

describe('with metrics off', () => {
  let server: RunningServer;
  let client: TestClient;
  let base: string;

  beforeAll(async () => {
    const httpPort = await freePort();
    server = await startServer({ args: ['--backend', 'memory', '--http-port', String(httpPort), '--metrics', 'off'] });
    base = `http://127.0.0.1:${httpPort}`;
    client = connect(server.address);
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('/metrics is 404 and per-script statistics still count', async () => {
    const res = await request(`${base}/metrics`);
    expect(res.status).toBe(404);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/LUCIEN_METRICS=off/);
    await client.call('PutScript', { name: 'one', engine: 'javascript', source: 'result = 1;', description: '' });
    await client.call('Run', { name: 'one', args: '[]' });
    const stats = await request(`${base}/api/stats?name=one`);
    expect(stats.json<{ scripts: { calls: number }[] }>().scripts[0]?.calls).toBe(1);
  });

  test('without auth, the API answers only a loopback Host (no DNS rebinding)', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${base}/api/overview`, { headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status('attacker.example:80')).toBe(403);
    expect(await status(`localhost:${new URL(base).port}`)).toBe(200);
  });
});

test('the HTTP port is off when --http-port is 0 (the test default)', async () => {
  const server = await startServer({ args: ['--backend', 'memory'], waitForPool: false });
  try {
    expect(server.output()).toMatch(/"http":"off"/);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
