/**
 * Test helpers for the JavaScript engine host: start the real compiled host
 * (dist/, so run `npm run build` first) through HostProcess, and answer its
 * bridge calls from an in-memory fake that records writes. Never talks to a
 * real store; never shares a host between test files.
 */
import { join } from 'node:path';
import { HostProcess } from '../../src/procedures/host-process';
import { type JavaScriptHostOptions, javascriptHostSpec } from '../../engines/javascript/spec';
import type { DoneMessage, RunLimits } from '../../engines/protocol';
import { FakeBridge } from './fake-bridge';

export { FakeBridge };

const DIST = join(__dirname, '..', '..', 'dist');

export const LIMITS: RunLimits = { maxLogBytes: 64 * 1024, maxResultBytes: 1024 * 1024 };

export function startJavaScriptHost(options: JavaScriptHostOptions = {}): Promise<HostProcess> {
  return HostProcess.start(javascriptHostSpec(DIST, options));
}

let keys = 0;

/** Runs `source` once, sent with its source under a fresh cache key (so it compiles in the host). */
export function runJs(
  host: HostProcess,
  source: string,
  opts: { args?: string; bridge?: FakeBridge; limits?: RunLimits; key?: string } = {},
): Promise<DoneMessage> {
  const bridge = opts.bridge ?? new FakeBridge();
  return host.run(
    { key: opts.key ?? `js${++keys}`, name: 'test', source, args: opts.args ?? '[]', limits: opts.limits ?? LIMITS },
    bridge.onCall,
  );
}

/** The parsed result of a run that must succeed. */
export async function resultOf(
  host: HostProcess,
  source: string,
  opts: Parameters<typeof runJs>[2] = {},
): Promise<unknown> {
  const done = await runJs(host, source, opts);
  if (!done.ok) throw new Error(`run failed: ${JSON.stringify(done.error)}`);
  return JSON.parse(done.result) as unknown;
}

/** The failure of a run that must fail. */
export async function failureOf(host: HostProcess, source: string, opts: Parameters<typeof runJs>[2] = {}) {
  const done = await runJs(host, source, opts);
  if (done.ok) throw new Error(`run succeeded with ${done.result}`);
  return done.error;
}

/** Resolves with 'pending' if `promise` has not settled within `ms`. */
export function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);
}
