/**
 * Test helpers for the Python engine host: start the real compiled host
 * (dist/, so run `npm run build` first) through HostProcess, and answer its
 * bridge calls from an in-memory fake that records writes. Never talks to a
 * real store; never shares a host between test files.
 */
import { join } from 'node:path';
import { HostProcess } from '../../src/procedures/host-process';
import { pythonHostSpec } from '../../engines/python/spec';
import type { DoneMessage, RunLimits } from '../../engines/protocol';
import { FakeBridge } from './fake-bridge';

export { FakeBridge };

const ROOT = join(__dirname, '..', '..');

export const LIMITS: RunLimits = { maxLogBytes: 64 * 1024, maxResultBytes: 1024 * 1024 };

export function startPythonHost(): Promise<HostProcess> {
  return HostProcess.start(pythonHostSpec(join(ROOT, 'dist'), join(ROOT, 'node_modules')));
}

let keys = 0;

/** Runs `source` once (sent with its source, under a fresh cache key). */
export function runPython(
  host: HostProcess,
  source: string,
  opts: { args?: string; bridge?: FakeBridge; limits?: RunLimits } = {},
): Promise<DoneMessage> {
  const bridge = opts.bridge ?? new FakeBridge();
  return host.run(
    { key: `k${++keys}`, name: 'test', source, args: opts.args ?? '[]', limits: opts.limits ?? LIMITS },
    bridge.onCall,
  );
}

/** The value of a successful run, parsed; fails the test with the error otherwise. */
export async function resultOf(
  host: HostProcess,
  source: string,
  opts: Parameters<typeof runPython>[2] = {},
): Promise<unknown> {
  const done = await runPython(host, source, opts);
  if (!done.ok) throw new Error(`script failed: ${JSON.stringify(done.error)}`);
  return JSON.parse(done.result) as unknown;
}

/** Python that finds the real `sys` and builtins (the hermetic corpus's walk): what an attacker does first. */
export { WALK } from '../procedures/hermetic-corpus';
