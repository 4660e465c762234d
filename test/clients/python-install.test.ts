/**
 * The Python client is installable as documented: `pip install` of
 * clients/python into a venv over Debian's grpcio (--system-site-packages,
 * --no-build-isolation, --no-index: PyPI is not reachable here). Then, from
 * outside the repo and with no PYTHONPATH, the README's Python session runs
 * as pasted, and a Watch resumes after the server is killed and restarted.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/free-port';
import { ROOT, startServer } from '../helpers/server';

const SYSTEM_PYTHON = process.env.LUCIEN_TEST_PYTHON ?? '/usr/bin/python3';
let work: string;
let python: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lucien-pip-'));
  // Install from a copy, so the build leaves nothing in the repo.
  cpSync(join(ROOT, 'clients/python'), join(work, 'src'), {
    recursive: true,
    filter: (p) => !p.includes('__pycache__'),
  });
  execFileSync(SYSTEM_PYTHON, ['-m', 'venv', '--system-site-packages', join(work, 'venv')], { stdio: 'pipe' });
  python = join(work, 'venv/bin/python');
  execFileSync(
    python,
    ['-m', 'pip', 'install', '--no-build-isolation', '--no-index', '--disable-pip-version-check', join(work, 'src')],
    { stdio: 'pipe', cwd: work },
  );
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const py = (code: string, env: Record<string, string> = {}) =>
  execFileSync(python, ['-c', code], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });

test('pip install puts the package (with py.typed) in the venv, declaring grpcio and protobuf', () => {
  const where = py(
    'import lucien, os; print(lucien.__file__); print(os.path.exists(os.path.join(os.path.dirname(lucien.__file__), "py.typed")))',
  );
  expect(where).toBe(
    `${join(work, 'venv/lib')}/python3.${where.split('python3.')[1]?.split('/')[0]}/site-packages/lucien/__init__.py\nTrue\n`,
  );
  const requires = py('from importlib.metadata import requires; print(sorted(requires("lucien-client")))');
  expect(requires).toMatch(/grpcio ?\(?>=1\.51/);
  expect(requires).toMatch(/protobuf ?\(?>=3\.21/);
});

test("the README's Python session runs as pasted after the install", async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const session = /The same session in Python[\s\S]*?```python\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(session).toBeDefined();
  const server = await startServer({ args: ['--backend', 'memory'], waitForPool: false });
  try {
    const code = (session as string).replace(/127\.0\.0\.1:50051/g, server.address);
    const checks =
      '\nassert client.get("hey", "there") == {"hey": "there"}\nassert client.run("the_ultimate_method", []) == {"success": True, "answer": 42}\nprint("session ok")\n';
    expect(py(code + checks)).toContain('session ok');
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('a Python Watch resumes from its last revision after the server is killed and restarted', async () => {
  const port = await freePort();
  const first = await startServer({ args: ['--port', String(port)], waitForPool: false });
  const address = first.address;
  py(`from lucien import Client\nClient("${address}").put("marker", "m", {})`);
  const watcher = spawn(
    python,
    [
      '-u',
      '-c',
      `import json, sys\nfrom lucien import Client\nc = Client("${address}")\nw = c.watch("feed", start_revision=c.current_revision() + 1)\nprint("ready", flush=True)\nfor i, e in enumerate(w):\n    print(json.dumps([e.type, e.key, e.value]), flush=True)\n    if i == 2:\n        print("reconnects", w.reconnects, flush=True)\n        break\n`,
    ],
    { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  watcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
  watcher.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((resolve) => watcher.on('close', resolve));
  const second: { current?: Awaited<ReturnType<typeof startServer>> } = {};
  try {
    for (let i = 0; !out.includes('ready'); i++) {
      if (i > 300) throw new Error(`watcher did not start: ${out}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    py(`from lucien import Client\nc = Client("${address}")\nc.put("feed", "a", {"n": 1})\nc.put("other", "x", {})`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.kill();
    second.current = await startServer({ args: ['--port', String(port)], dataDir: first.dataDir, waitForPool: false });
    py(`from lucien import Client\nc = Client("${address}")\nc.delete("feed", "a")\nc.put("feed", "b", {"n": 2})`);
    expect(await done).toBe(0);
    expect(out.trim().split('\n').slice(1)).toEqual([
      '["PUT", "a", {"n": 1}]',
      '["DELETE", "a", null]',
      '["PUT", "b", {"n": 2}]',
      expect.stringMatching(/^reconnects [1-9]/),
    ]);
  } finally {
    watcher.kill();
    await second.current?.stop();
    first.cleanup();
  }
});

test('the install step is the one the README documents', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain('pip install --no-build-isolation --no-index ./clients/python');
  expect(existsSync(join(ROOT, 'clients/python/pyproject.toml'))).toBe(true);
});
