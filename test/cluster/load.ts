/**
 * Mixed load on a Lucien cluster, recorded for the fault tests: several
 * clients, each sending through every node in turn, doing Puts of fresh keys,
 * compare-and-set on a key of their own, script increments of one hot
 * counter, and Put/Get/CAS on a few shared keys (recorded as a history for
 * the linearizability checker); plus one Watch per node on the bucket,
 * resumed from the last revision it saw whenever it breaks. Every operation
 * is recorded with its start, end and outcome: acknowledged, refused (it
 * certainly did not happen) or unknown. Test code only.
 */
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { type CallError, connect, errorCode, type TestClient } from '../helpers/client';
import type { KvOperation } from '../linearizability/kv-model';

export type Outcome = 'ok' | 'refused' | 'unknown';

export interface OpRecord {
  readonly kind: 'put' | 'cas' | 'incr' | 'get';
  readonly node: number;
  readonly start: number;
  readonly end: number;
  readonly outcome: Outcome;
  /** A retryable failure (UNAVAILABLE, ABORTED, DEADLINE_EXCEEDED), as a client would see it. */
  readonly retryable: boolean;
  readonly error?: string;
}

export interface WatchEvent {
  readonly type: string;
  readonly key: string;
  readonly value: string;
  readonly revision: number;
}

export interface LoadOptions {
  readonly bucket: string;
  /** Current node addresses (a restarted node gets a new one). */
  readonly nodes: () => readonly string[];
  readonly clients?: number;
  /** The increment script's name (registered beforehand). */
  readonly script: string;
  /** Revision to watch from (exclusive). */
  readonly after: number;
}

const LIN_KEYS = ['lin0', 'lin1', 'lin2'];

export class MixedLoad {
  readonly ops: OpRecord[] = [];
  /** key → revision of every acknowledged Put of a fresh key. */
  readonly puts = new Map<string, number>();
  /** Per client: acknowledged CAS increments and unknown ones. */
  readonly cas: { acked: number; unknown: number }[] = [];
  readonly incr = { acked: 0, unknown: 0 };
  /** Revisions of acknowledged writes with the key they wrote (for the Watch check). */
  readonly writes: { key: string; revision: number }[] = [];
  readonly history: KvOperation[] = [];
  /** Per node: the events its Watch delivered, and how often it was resumed. */
  readonly watches: { events: WatchEvent[]; resumes: number }[] = [];
  private readonly clients = new Map<string, TestClient>();
  private running = false;
  private workers: Promise<void>[] = [];
  private streams: grpc.ClientReadableStream<WatchEvent>[] = [];
  private unique = 0;
  /** Addresses that refused a connection: skipped until a probe gets an answer (as a health-checking client does). */
  private readonly down = new Set<string>();
  private closed = false;

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    this.running = true;
    const n = this.options.clients ?? 4;
    for (let c = 0; c < n; c++) {
      this.cas.push({ acked: 0, unknown: 0 });
      this.workers.push(this.worker(c));
    }
    this.options.nodes().forEach((_, i) => {
      this.watches.push({ events: [], resumes: 0 });
      this.watch(i, this.options.after);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Waits until every node's Watch has delivered up to `revision`, then closes the streams. */
  async drainWatches(revision: number, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const behind = () => this.watches.some((w) => (w.events[w.events.length - 1]?.revision ?? 0) < revision);
    while (behind()) {
      if (Date.now() > deadline)
        throw new Error(
          `watches did not reach revision ${revision}: at ${this.watches.map((w) => w.events[w.events.length - 1]?.revision).join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const streams = this.streams;
    this.streams = [];
    for (const s of streams) s.cancel();
  }

  close(): void {
    this.closed = true;
    for (const s of this.streams) s.cancel();
    for (const c of this.clients.values()) c.close();
  }

  client(node: number): TestClient {
    const nodes = this.options.nodes();
    const address = nodes[node % nodes.length] as string;
    let c = this.clients.get(address);
    if (c === undefined) {
      c = connect(address);
      this.clients.set(address, c);
    }
    return c;
  }

  private watch(node: number, after: number): void {
    const record = this.watches[node] as { events: WatchEvent[]; resumes: number };
    const raw = this.client(node).raw as unknown as { Watch(req: object): grpc.ClientReadableStream<WatchEvent> };
    const stream = raw.Watch({ bucket: this.options.bucket, start_revision: after + 1 });
    this.streams.push(stream);
    let last = after;
    stream.on('data', (e: WatchEvent) => {
      record.events.push({ type: e.type, key: e.key, value: e.value, revision: Number(e.revision) });
      last = Number(e.revision);
    });
    // Resume where it broke (an error, or the server ending it while shutting down), on the same
    // node: a restarted node answers at its new address.
    let over = false;
    const resume = (code: grpc.status): void => {
      if (over || code === grpc.status.CANCELLED || !this.streams.includes(stream)) return;
      over = true;
      this.streams = this.streams.filter((s) => s !== stream);
      record.resumes++;
      setTimeout(() => {
        if (!this.closed) this.watch(node, last);
      }, 100);
    };
    stream.on('error', (err: grpc.ServiceError) => resume(err.code));
    stream.on('status', (status: grpc.StatusObject) => resume(status.code));
    stream.on('end', () => resume(grpc.status.OK));
  }

  /** The node for a client's next call: round robin over the nodes that are not down. */
  private pick(c: number, i: number): number {
    const nodes = this.options.nodes();
    for (let k = 0; k < nodes.length; k++) {
      const node = (c + i + k) % nodes.length;
      if (!this.down.has(nodes[node] as string)) return node;
    }
    return (c + i) % nodes.length;
  }

  private markDown(node: number): void {
    const address = this.options.nodes()[node] as string;
    if (this.down.has(address)) return;
    this.down.add(address);
    const probe = async (): Promise<void> => {
      while (this.running && this.down.has(address)) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (!this.options.nodes().includes(address)) break;
        const ok = await this.client(this.options.nodes().indexOf(address))
          .call('ListBuckets', {})
          .then(
            () => true,
            () => false,
          );
        if (ok) break;
      }
      this.down.delete(address);
    };
    void probe();
  }

  private async worker(c: number): Promise<void> {
    let i = 0;
    let casValue: { n: number; rev: number } | undefined;
    while (this.running) {
      const node = this.pick(c, i);
      const step = i++ % 5;
      if (step === 0) {
        const key = `p/${c}/${i}`;
        const r = await this.record('put', node, () =>
          this.client(node).call<{ revision: number }>('Put', {
            bucket: this.options.bucket,
            key,
            value: JSON.stringify({ c, i }),
          }),
        );
        if (r !== undefined) {
          this.puts.set(key, Number(r.revision));
          this.writes.push({ key, revision: Number(r.revision) });
        }
      } else if (step === 1) {
        const key = `cas/${c}`;
        if (casValue === undefined) {
          const got = await this.record('get', node, () =>
            this.client(node)
              .call<{ value: string; mod_revision: number }>('Get', { bucket: this.options.bucket, key })
              .catch((e: CallError) => {
                if (e.code === grpc.status.NOT_FOUND) return { value: '{"n":0}', mod_revision: 0 };
                throw e;
              }),
          );
          if (got !== undefined)
            casValue = { n: (JSON.parse(got.value) as { n: number }).n, rev: Number(got.mod_revision) };
          continue;
        }
        const next = casValue.n + 1;
        const request = {
          bucket: this.options.bucket,
          key,
          value: JSON.stringify({ n: next }),
          if_revision: casValue.rev,
        };
        const r = await this.record('cas', node, () => this.client(node).call<{ revision: number }>('Put', request));
        const stats = this.cas[c] as { acked: number; unknown: number };
        if (r !== undefined) {
          stats.acked++;
          casValue = { n: next, rev: Number(r.revision) };
          this.writes.push({ key, revision: Number(r.revision) });
        } else {
          if (this.ops[this.ops.length - 1]?.outcome === 'unknown') stats.unknown++;
          casValue = undefined;
        }
      } else if (step === 2) {
        const r = await this.record('incr', node, () =>
          this.client(node).call<{ revision: number; result: string }>('Run', {
            name: this.options.script,
            args: JSON.stringify([this.options.bucket]),
          }),
        );
        if (r !== undefined) {
          this.incr.acked++;
          this.writes.push({ key: 'counter', revision: Number(r.revision) });
        } else if (this.ops[this.ops.length - 1]?.outcome === 'unknown') {
          this.incr.unknown++;
        }
      } else {
        await this.linearizable(c, node);
      }
    }
  }

  /** One Put, Get or CAS on a shared key, recorded for the linearizability checker. */
  private async linearizable(c: number, node: number): Promise<void> {
    const key = LIN_KEYS[(c + this.unique) % LIN_KEYS.length] as string;
    const kind = this.unique++ % 3;
    const client = this.client(node);
    const call = performance.now();
    if (kind === 0) {
      const value = `v${c}-${this.unique}`;
      const r = await this.record('put', node, () =>
        client.call<{ revision: number }>('Put', {
          bucket: this.options.bucket,
          key,
          value: JSON.stringify({ v: value }),
        }),
      );
      const last = this.ops[this.ops.length - 1] as OpRecord;
      if (last.outcome === 'refused') return;
      this.history.push({
        input: { op: 'put', key, value },
        output: r === undefined ? 'unknown' : 'ok',
        call,
        ret: r === undefined ? Infinity : performance.now(),
      });
      return;
    }
    const read = await this.record('get', node, () =>
      client
        .call<{ value: string; mod_revision: number }>('Get', { bucket: this.options.bucket, key })
        .catch((e: CallError) => {
          if (e.code === grpc.status.NOT_FOUND) return { value: '', mod_revision: 0 };
          throw e;
        }),
    );
    if (read === undefined) return;
    const seen = read.value === '' ? null : (JSON.parse(read.value) as { v: string }).v;
    const readEnd = performance.now();
    this.history.push({ input: { op: 'get', key }, output: seen, call, ret: readEnd });
    if (kind === 1) return;
    const value = `v${c}-${this.unique}`;
    const casCall = performance.now();
    let code: string | undefined;
    const r = await this.record(
      'cas',
      node,
      () =>
        client.call('Put', {
          bucket: this.options.bucket,
          key,
          value: JSON.stringify({ v: value }),
          if_revision: Number(read.mod_revision),
        }),
      (e) => (code = errorCode(e)),
    );
    const last = this.ops[this.ops.length - 1] as OpRecord;
    if (last.outcome === 'refused' && code !== 'CONDITION_FAILED') return;
    const output = r !== undefined ? true : code === 'CONDITION_FAILED' ? false : 'unknown';
    this.history.push({
      input: { op: 'cas', key, expect: seen, value },
      output,
      call: casCall,
      ret: output === 'unknown' ? Infinity : performance.now(),
    });
  }

  /** Runs one call and records it; resolves undefined when it failed. */
  private async record<T>(
    kind: OpRecord['kind'],
    node: number,
    fn: () => Promise<T>,
    onError?: (e: CallError) => void,
  ): Promise<T | undefined> {
    const start = performance.now();
    try {
      const result = await fn();
      this.ops.push({ kind, node, start, end: performance.now(), outcome: 'ok', retryable: false });
      return result;
    } catch (err) {
      const e = err as CallError;
      onError?.(e);
      if (e.code === grpc.status.UNAVAILABLE && classify(e) === 'refused') this.markDown(node);
      const retryable = [grpc.status.UNAVAILABLE, grpc.status.ABORTED, grpc.status.DEADLINE_EXCEEDED].includes(e.code);
      this.ops.push({
        kind,
        node,
        start,
        end: performance.now(),
        outcome: classify(e),
        retryable,
        error: `${grpc.status[e.code]} ${e.details}`,
      });
      if (retryable) await new Promise((resolve) => setTimeout(resolve, 50));
      return undefined;
    }
  }
}

/**
 * Whether a failed call certainly wrote nothing: Lucien answered with an
 * error code (a commit whose outcome is unknown says so), or the call never
 * reached a server (connection refused). Anything else may have committed.
 */
function classify(e: CallError): Outcome {
  const code = errorCode(e);
  if (code !== undefined) return /may or may not/.test(e.details) ? 'unknown' : 'refused';
  if (/ECONNREFUSED|No connection established|Connection refused/i.test(e.details ?? '')) return 'refused';
  return 'unknown';
}
