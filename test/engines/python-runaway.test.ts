/**
 * Runaway Python scripts: what the host survives (memory bomb, deep
 * recursion), what ends it on purpose (a fatal Pyodide error), and what only
 * the server's kill can stop (busy loops, even ones that swallow
 * BaseException). Starts fresh hosts because some of these end them.
 */
import type { HostProcess } from '../../src/procedures/host-process';
import { HostExitedError } from '../../src/procedures/host-exit';
import { resultOf, runPython, startPythonHost } from './python-harness';

let host: HostProcess;
beforeAll(async () => {
  host = await startPythonHost();
});
afterAll(() => host?.kill());

async function killedWhileRunning(source: string): Promise<void> {
  const victim = await startPythonHost();
  try {
    const running = runPython(victim, source);
    const outcome = running.then(
      () => 'resolved',
      (err: unknown) => (err instanceof Error && err.name === 'HostExitedError' ? 'rejected' : `other: ${String(err)}`),
    );
    const early = await Promise.race([outcome, new Promise((r) => setTimeout(() => r('still running'), 500))]);
    expect(early).toBe('still running');
    const t0 = performance.now();
    victim.kill();
    expect(await outcome).toBe('rejected');
    const exit = await victim.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(performance.now() - t0).toBeLessThan(1000);
  } finally {
    victim.kill();
  }
}

describe('runaway Python scripts', () => {
  test('a memory bomb ends with kind memory and the host keeps serving', async () => {
    const done = await runPython(host, 'x = []\nwhile True:\n    x.append(bytearray(10**7))');
    expect(done).toMatchObject({ ok: false, error: { kind: 'memory', type: 'MemoryError' } });
    expect(await resultOf(host, 'result = "fine"')).toBe('fine');
  });

  test('deep recursion is a RecursionError with its line, and the host survives', async () => {
    const done = await runPython(host, 'def f(n):\n    return f(n + 1)\nf(0)');
    expect(done).toMatchObject({ ok: false, error: { kind: 'error', type: 'RecursionError', line: 2 } });
    expect(await resultOf(host, 'result = "fine"')).toBe('fine');
  });

  test('a deeply nested repr reports an error and the host exits rather than being reused', async () => {
    const done = await runPython(host, 'x = []\nfor i in range(200000):\n    x = [x]\nresult = len(repr(x))').catch(
      (e: unknown) => e,
    );
    if (done instanceof HostExitedError) {
      expect(done.exit.code).not.toBe(0);
    } else {
      expect(done).toMatchObject({ ok: false, error: { kind: 'error', type: 'EngineFailed' } });
    }
    const exit = await host.exited;
    expect(exit.code).toBe(70);
    expect(host.alive).toBe(false);
    await expect(runPython(host, 'result = 1')).rejects.toThrow(/exited/);
  });

  test('while True: pass is ended by kill(): run() rejects promptly', async () => {
    await killedWhileRunning('while True:\n    pass');
  });

  test('a loop that swallows BaseException is still ended by kill()', async () => {
    await killedWhileRunning(
      'while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass',
    );
  });
});
