/**
 * The server as an operator meets it: a kill -9 under write load loses no
 * acknowledged write; SIGTERM drains in-flight calls and exits 0; bad
 * configuration and unsafe binds are refused before anything is served.
 */
import { spawnSync } from 'node:child_process';
import { connect, type TestClient } from '../helpers/client';
import { MAIN, ROOT, startServer } from '../helpers/server';

test('kill -9 under concurrent write load loses no acknowledged write', async () => {
  const first = await startServer();
  const client: TestClient = connect(first.address);
  const acknowledged = new Map<string, number>();
  let stop = false;
  let failures = 0;
  const writer = async (id: number) => {
    for (let i = 0; !stop; i++) {
      const key = `w${id}-${i}`;
      try {
        const { revision } = await client.call<{ revision: number }>('Put', {
          bucket: 'crash',
          key,
          value: JSON.stringify({ id, i }),
        });
        acknowledged.set(key, revision);
      } catch {
        failures++;
        return;
      }
    }
  };
  const writers = Array.from({ length: 16 }, (_, id) => writer(id));
  while (acknowledged.size < 3000) await new Promise((r) => setTimeout(r, 20));
  await first.kill();
  stop = true;
  await Promise.all(writers);
  client.close();
  expect(failures).toBeGreaterThan(0); // the kill landed while writes were in flight

  const second = await startServer({ dataDir: first.dataDir });
  const reader = connect(second.address);
  try {
    const keys = [...acknowledged.keys()];
    let missing = 0;
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const res = await reader.call<{ entries: { key: string; found: boolean; mod_revision: number }[] }>('BatchGet', {
        keys: chunk.map((key) => ({ bucket: 'crash', key })),
      });
      for (const entry of res.entries) {
        if (!entry.found || entry.mod_revision !== acknowledged.get(entry.key)) missing++;
      }
    }
    expect(keys.length).toBeGreaterThanOrEqual(3000);
    expect(missing).toBe(0);
    // The revision counter continues past every acknowledged write.
    const { revision } = await reader.call<{ revision: number }>('Put', { bucket: 'crash', key: 'after', value: '{}' });
    expect(revision).toBeGreaterThan(Math.max(...acknowledged.values()));
  } finally {
    reader.close();
    await second.stop();
    second.cleanup();
  }
});

test('SIGTERM finishes the in-flight calls, then exits 0', async () => {
  const server = await startServer({ args: ['--backend', 'memory'] });
  const client = connect(server.address);
  await client.call('PutScript', {
    name: 'slow',
    engine: 'javascript',
    source: 'const end = Date.now() + 700; while (Date.now() < end) {} result = "finished";',
  });
  const inFlight = client.call<{ result: string }>('Run', { name: 'slow' });
  await new Promise((r) => setTimeout(r, 200));
  const exit = server.stop();
  const answer = await inFlight;
  expect(JSON.parse(answer.result)).toBe('finished');
  expect(await exit).toBe(0);
  expect(server.output()).toContain('"message":"stopped"');
  client.close();
  server.cleanup();
});

test('SERVING comes once one host per engine is warm; the rest of the pool joins in the background and serves too', async () => {
  const first = await startServer({ args: ['--engine-pool', '2'] });
  const client = connect(first.address);
  await client.call('PutScript', { name: 'py', engine: 'python', source: 'result = args[0] * 2' });
  client.close();
  await first.stop();
  const server = await startServer({
    dataDir: first.dataDir,
    args: ['--engine-pool', '2'],
    waitForPool: false,
    startTimeoutMs: 60000,
  });
  const again = connect(server.address);
  try {
    // Right away, while the second Python host may still be starting.
    const answers = await Promise.all(
      [1, 2, 3].map((n) => again.call<{ result: string }>('Run', { name: 'py', args: `[${n}]` })),
    );
    expect(answers.map((a) => JSON.parse(a.result))).toEqual([2, 4, 6]);
    await server.poolComplete(60000);
    const lines = server.output().split('\n');
    const serving = lines.findIndex((l) => l.includes('"message":"serving"'));
    const complete = lines.findIndex(
      (l) => l.includes('"message":"engine pool complete"') && l.includes('"engine":"python"'),
    );
    expect(serving).toBeGreaterThanOrEqual(0);
    expect(complete).toBeGreaterThan(serving);
    expect(JSON.parse(lines[complete] as string)).toMatchObject({ hosts: 2 });
    const more = await Promise.all(
      Array.from({ length: 6 }, (_, n) => again.call<{ result: string }>('Run', { name: 'py', args: `[${n}]` })),
    );
    expect(more.map((a) => JSON.parse(a.result))).toEqual([0, 2, 4, 6, 8, 10]);
  } finally {
    again.close();
    await server.stop();
    first.cleanup();
  }
});

describe('refusals at start', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [MAIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 30000,
    });

  test('binding a non-loopback address without auth is refused (protected mode)', () => {
    const result = run(['--host', '0.0.0.0', '--port', '0', '--backend', 'memory']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/refusing to listen on 0.0.0.0 without authentication/);
  });

  test('an invalid variable is refused with its name', () => {
    const result = run([], { LUCIEN_PORT: 'eighty' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/LUCIEN_PORT/);
  });

  test('an unreadable auth file stops the server instead of serving without auth', () => {
    const result = run([
      '--port',
      '0',
      '--backend',
      'memory',
      '--auth-file',
      '/nonexistent/auth.json',
      '--engine-pool',
      '1',
    ]);
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/cannot read auth file/);
  });
});
