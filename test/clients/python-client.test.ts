/**
 * The Python client (clients/python) against a real server: starts the
 * compiled server, then runs the client's unittest suites with Debian's
 * /usr/bin/python3 (the interpreter that has python3-grpcio) and
 * LUCIEN_TARGET pointing at the server. The unittest output is printed when a
 * suite fails, so the failing Python assertion is visible in the jest report.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startServer } from '../helpers/server';

const ROOT = path.resolve(__dirname, '..', '..');
const CLIENT_DIR = path.join(ROOT, 'clients', 'python');
const PYTHON = process.env.LUCIEN_TEST_PYTHON ?? '/usr/bin/python3';

interface PythonRun {
  readonly code: number | null;
  readonly output: string;
}

/** Runs one test module of clients/python/tests with unittest, collecting stdout+stderr. */
function runUnittest(module: string, target: string): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'unittest', '-v', `tests.${module}`], {
      cwd: CLIENT_DIR,
      env: { ...process.env, LUCIEN_TARGET: target, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: CLIENT_DIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function expectSuitePasses(module: string): Promise<void> {
  const server = await startServer();
  try {
    const run = await runUnittest(module, server.address);
    if (run.code !== 0) {
      console.log(`python -m unittest tests.${module} exited with ${String(run.code)}:\n${run.output}`);
    }
    expect(run.code).toBe(0);
  } finally {
    await server.stop();
    server.cleanup();
  }
}

describe('Python client (clients/python)', () => {
  test('key-value calls round-trip exactly against a real server (tests/test_client.py)', async () => {
    await expectSuitePasses('test_client');
  }, 180_000);

  test('the seed session and scripts run from Python (tests/test_scripts.py)', async () => {
    await expectSuitePasses('test_scripts');
  }, 180_000);

  test("argument mistakes raise the client's own error; per-call timeouts; eval (tests/test_arguments.py)", async () => {
    await expectSuitePasses('test_arguments');
  }, 180_000);
});
