/**
 * Test helpers for the JavaScript engine host: start the real compiled host
 * (dist/, so run `npm run build` first) through HostProcess, and answer its
 * bridge calls from an in-memory fake that records writes. Never talks to a
 * real store; never shares a host between test files.
 */
import { join } from 'node:path';
import { HostProcess } from '../../src/scripts/host-process';
import { JavaScriptHostOptions, javascriptHostSpec } from '../../engines/javascript/spec';
import type { BridgeCall, DoneMessage, ReplyMessage, RunLimits } from '../../engines/protocol';

const DIST = join(__dirname, '..', '..', 'dist');

export const LIMITS: RunLimits = { maxLogBytes: 64 * 1024, maxResultBytes: 1024 * 1024 };

export function startJavaScriptHost(options: JavaScriptHostOptions = {}): Promise<HostProcess> {
  return HostProcess.start(javascriptHostSpec(DIST, options));
}

/** Buckets as a Map of "bucket/key" to JSON text; calls and writes are recorded. */
export class FakeBridge {
  readonly data = new Map<string, string>();
  readonly calls: BridgeCall[] = [];
  readonly writes: { bucket: string; key: string; value: string | null }[] = [];

  constructor(seed: Record<string, Record<string, unknown>> = {}) {
    for (const [bucket, entries] of Object.entries(seed)) {
      for (const [key, value] of Object.entries(entries)) this.data.set(`${bucket}/${key}`, JSON.stringify(value));
    }
  }

  readonly onCall = async (call: BridgeCall): Promise<ReplyMessage> => {
    this.calls.push(call);
    if (call.bucket.startsWith('_')) return { t: 'reply', ok: false, error: `bucket ${call.bucket} is reserved` };
    const at = (key: string): string => this.data.get(`${call.bucket}/${key}`) ?? 'null';
    switch (call.op) {
      case 'get':
        return { t: 'reply', ok: true, value: at(call.key) };
      case 'getMany':
        return { t: 'reply', ok: true, value: `[${call.keys.map(at).join(',')}]` };
      case 'put':
        this.data.set(`${call.bucket}/${call.key}`, call.value);
        this.writes.push({ bucket: call.bucket, key: call.key, value: call.value });
        return { t: 'reply', ok: true, value: 'null' };
      case 'delete':
        this.data.delete(`${call.bucket}/${call.key}`);
        this.writes.push({ bucket: call.bucket, key: call.key, value: null });
        return { t: 'reply', ok: true, value: 'null' };
      case 'list': {
        const head = `${call.bucket}/`;
        const keys = [...this.data.keys()]
          .filter((k) => k.startsWith(head + call.prefix))
          .map((k) => k.slice(head.length))
          .filter((k) => call.startAfter === null || k > call.startAfter)
          .sort()
          .slice(0, call.limit);
        return { t: 'reply', ok: true, value: `[${keys.map((k) => `[${JSON.stringify(k)},${at(k)}]`).join(',')}]` };
      }
    }
  };
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
export async function resultOf(host: HostProcess, source: string, opts: Parameters<typeof runJs>[2] = {}): Promise<unknown> {
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
