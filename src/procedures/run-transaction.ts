/**
 * The bucket bridge: one transaction per script run, shared by every engine.
 * Reads come from one snapshot, taken at the run's first read (or, for a host
 * answering from its read cache, before the run starts: open()), overlaid with the
 * run's own buffered writes; every key read (found or not) and every listed
 * prefix is remembered so the commit can be guarded against concurrent
 * changes (serializable runs). Every call is checked here, whatever the host
 * sent: an escaped script can speak the protocol, not bypass these rules.
 * Names, keys and values are checked by the store's rules (store.ts) and
 * read through its bucket space: this file never builds a storage key.
 */
import type { BridgeCall, BridgeReply } from '../../engines/protocol';
import { formatRead } from '../../engines/host/read-answer';
import { isLucienError, LucienError } from '../errors';
import type { KeyValue } from '../storage/backend';
import type { BucketCondition, BucketMutation, BucketSnapshot } from '../storage/buckets';
import { compareBytewise } from '../storage/bytewise';
import type { Store } from '../storage/store';

/** What a run may do beyond the store's own limits on keys and values. */
export interface BridgeLimits {
  /** Distinct keys a run may write. */
  readonly maxWrites: number;
  /** Keys one getMany or list may return. */
  readonly maxReadBatch: number;
}

/** A write the run made, as RunResponse reports it. */
export interface RunWrite {
  readonly bucket: string;
  readonly key: string;
  /** JSON text, or null for a delete. */
  readonly value: string | null;
}

const malformed = (what: string): LucienError => new LucienError('INVALID_ARGUMENT', `malformed bridge call: ${what}`);

/** Checks the shape of a call as a host sent it: JSON of one BridgeCall, with every field of the right type. */
export function parseCall(request: string): BridgeCall {
  let call: unknown;
  try {
    call = JSON.parse(request);
  } catch {
    throw malformed('not JSON');
  }
  if (typeof call !== 'object' || call === null || Array.isArray(call)) throw malformed('expected an object');
  const c = call as Record<string, unknown>;
  if (typeof c.bucket !== 'string') throw malformed('bucket must be a string');
  const key = (): string => {
    if (typeof c.key !== 'string') throw new LucienError('INVALID_KEY', 'key must be a string');
    return c.key;
  };
  switch (c.op) {
    case 'get':
      return { op: 'get', bucket: c.bucket, key: key() };
    case 'delete':
      return { op: 'delete', bucket: c.bucket, key: key() };
    case 'put':
      if (typeof c.value !== 'string') throw new LucienError('INVALID_VALUE', 'value must be JSON text');
      return { op: 'put', bucket: c.bucket, key: key(), value: c.value };
    case 'getMany':
    case 'read':
      if (!Array.isArray(c.keys)) throw malformed(`${c.op} needs a list of keys`);
      if (!c.keys.every((k) => typeof k === 'string')) throw new LucienError('INVALID_KEY', 'keys must be strings');
      return { op: c.op, bucket: c.bucket, keys: c.keys as string[] };
    case 'list':
      if (typeof c.prefix !== 'string') throw new LucienError('INVALID_ARGUMENT', 'prefix must be a string');
      if (typeof c.limit !== 'number') throw new LucienError('INVALID_ARGUMENT', 'list limit must be a number');
      if (c.startAfter !== null && typeof c.startAfter !== 'string')
        throw new LucienError('INVALID_ARGUMENT', 'start_after must be a string');
      return { op: 'list', bucket: c.bucket, prefix: c.prefix, limit: c.limit, startAfter: c.startAfter };
    default:
      throw new LucienError('INVALID_ARGUMENT', `unknown bridge operation ${JSON.stringify(c.op) ?? 'undefined'}`);
  }
}

/**
 * What the script sees for an error it caused; anything else ends the run
 * with that error whatever the script does next: the store failing
 * (UNAVAILABLE), a run limit (SCRIPT_LIMIT), a bug (INTERNAL).
 */
function scriptFailure(err: unknown): BridgeReply {
  if (isLucienError(err) && err.code !== 'INTERNAL' && err.code !== 'UNAVAILABLE' && err.code !== 'SCRIPT_LIMIT')
    return { error: err.message };
  throw err;
}

/** Script calls an engine host answered itself (from its read cache), by op. */
export interface CachedCalls {
  readonly get: number;
  readonly getMany: number;
  readonly list: number;
}

/** Whether the caller may read / write a bucket; a message saying why not, or undefined. */
export type BucketAccess = (bucket: string, mode: 'read' | 'write') => string | undefined;

/** Values per (bucket, key). */
class PerKey<V> {
  private readonly buckets = new Map<string, Map<string, V>>();

  get(bucket: string, key: string): V | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  has(bucket: string, key: string): boolean {
    return this.buckets.get(bucket)?.has(key) === true;
  }

  set(bucket: string, key: string, value: V): void {
    const keys = this.buckets.get(bucket);
    if (keys === undefined) this.buckets.set(bucket, new Map([[key, value]]));
    else keys.set(key, value);
  }

  *entries(): IterableIterator<[bucket: string, key: string, value: V]> {
    for (const [bucket, keys] of this.buckets) for (const [key, value] of keys) yield [bucket, key, value];
  }
}

export class RunTransaction {
  private snap: BucketSnapshot | undefined;
  private opening: Promise<BucketSnapshot> | undefined;
  /** mod revision seen at the snapshot (0 = absent). */
  private readonly reads = new PerKey<number>();
  private readonly listed = new PerKey<true>();
  /** This run's writes in first-write order; `written` holds each key's position. */
  private readonly staged: RunWrite[] = [];
  private readonly written = new PerKey<number>();
  private readonly syncReads: boolean;

  /**
   * `openSnapshot` is called at the first read, or by open() once the run
   * holds an engine host (hosts with a read cache need the revision first),
   * never before: an exclusive run takes its lock only once it holds a host
   * (so waiting for the lock can never starve hosts).
   */
  constructor(
    private readonly store: Store,
    private readonly openSnapshot: () => Promise<BucketSnapshot>,
    private readonly limits: BridgeLimits,
    /** The caller's rights (invoker rights): every bucket a call names is checked against them. */
    private readonly access?: BucketAccess,
  ) {
    this.syncReads = store.space.supports.getManySync;
  }

  /** A call was refused for the caller's rights (the script saw PermissionDenied). */
  denied = false;

  /** The snapshot's revision, or undefined if the run read nothing. */
  get revision(): number | undefined {
    return this.snap?.revision;
  }

  /** Opens the snapshot now (a host answering from its read cache needs its revision first); resolves with it. */
  async open(): Promise<number> {
    return (await this.snapshot()).revision;
  }

  /**
   * Records the reads a host answered from its read cache (its done message,
   * unchecked), as if they had crossed the bridge: each key with the revision
   * seen, each listed prefix; returns the script calls the host answered
   * itself. A malformed set is the host breaking the protocol: the run fails
   * and writes nothing.
   */
  recordCached(cached: unknown): CachedCalls {
    const none = { get: 0, getMany: 0, list: 0 };
    if (cached === undefined) return none;
    const bad = (what: string): LucienError =>
      new LucienError('INTERNAL', `engine host sent a malformed read set: ${what}`);
    const set = cached as { keys?: unknown; prefixes?: unknown; calls?: Record<string, unknown> };
    if (typeof set !== 'object' || set === null || !Array.isArray(set.keys) || !Array.isArray(set.prefixes))
      throw bad('expected keys and prefixes');
    const count = (v: unknown): number => {
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw bad('bad call count');
      return v as number;
    };
    if (typeof set.calls !== 'object' || set.calls === null) throw bad('expected call counts');
    const calls = { get: count(set.calls.get), getMany: count(set.calls.getMany), list: count(set.calls.list) };
    const revision = this.snap?.revision;
    if (revision === undefined) throw bad('no snapshot was open');
    /** A cache name split as the host built it (bucket + '/' + key), the bucket readable; else undefined. */
    const named = (name: unknown): { bucket: string; key: string } | undefined => {
      if (typeof name !== 'string') return undefined;
      const at = name.indexOf('/');
      if (at <= 0) return undefined;
      const bucket = name.slice(0, at);
      try {
        this.store.checkRead(bucket, []);
      } catch {
        return undefined;
      }
      return { bucket, key: name.slice(at + 1) };
    };
    for (const entry of set.keys as unknown[]) {
      const [name, modRevision] = Array.isArray(entry) ? (entry as unknown[]) : [];
      const ref = named(name);
      if (
        ref === undefined ||
        !Number.isSafeInteger(modRevision) ||
        (modRevision as number) < 0 ||
        (modRevision as number) > revision
      )
        throw bad('bad key entry');
      // The host recorded each key at its first read, before any write of the run to it: keep it even if written since.
      if (!this.reads.has(ref.bucket, ref.key)) this.reads.set(ref.bucket, ref.key, modRevision as number);
    }
    for (const prefix of set.prefixes as unknown[]) {
      const ref = named(prefix);
      if (ref === undefined) throw bad('bad prefix');
      this.listed.set(ref.bucket, ref.key, true);
    }
    return calls;
  }

  async release(): Promise<void> {
    const snap = this.snap ?? (this.opening ? await this.opening.catch(() => undefined) : undefined);
    await snap?.release();
  }

  private async snapshot(): Promise<BucketSnapshot> {
    if (this.snap !== undefined) return this.snap;
    this.opening ??= this.openSnapshot();
    this.snap = await this.opening;
    return this.snap;
  }

  /**
   * Answers one bridge call (its JSON text); failures the script caused become
   * `{ error }` for it to raise. Answers in the same tick when it can (writes,
   * and reads once the snapshot is open on a backend with synchronous reads),
   * so the host's blocked read returns without a trip through the event loop.
   */
  handle(request: string): BridgeReply | Promise<BridgeReply> {
    let call: BridgeCall;
    try {
      call = parseCall(request);
      const refusal = this.access?.(call.bucket, call.op === 'put' || call.op === 'delete' ? 'write' : 'read');
      if (refusal !== undefined) {
        this.denied = true;
        return { denied: refusal };
      }
      const now = this.dispatchSync(call);
      if (now !== undefined) return { value: now };
    } catch (err) {
      return scriptFailure(err);
    }
    return this.dispatch(call).then((value) => ({ value }), scriptFailure);
  }

  get writeList(): RunWrite[] {
    return [...this.staged];
  }

  get readOnly(): boolean {
    return this.staged.length === 0;
  }

  mutations(): BucketMutation[] {
    return this.staged.map(({ bucket, key, value }) =>
      value === null ? { type: 'delete', bucket, key } : { type: 'put', bucket, key, value },
    );
  }

  /** Guards: nothing this run read or listed changed since its snapshot. */
  conditions(): BucketCondition[] {
    const conditions: BucketCondition[] = [];
    for (const [bucket, key, modRevision] of this.reads.entries())
      conditions.push({ type: 'key', bucket, key, modRevision });
    for (const [bucket, prefix] of this.listed.entries())
      conditions.push({ type: 'prefix', bucket, prefix, revision: this.snap?.revision ?? 0 });
    return conditions;
  }

  /** The answer if it needs no waiting, else undefined (having checked and recorded nothing). */
  private dispatchSync(call: BridgeCall): string | undefined {
    switch (call.op) {
      case 'get':
      case 'getMany':
      case 'read': {
        // Until the snapshot is open (or on a backend without synchronous reads) the read waits: dispatch().
        const snap = this.snap;
        if (snap === undefined || !this.syncReads) return undefined;
        const { keys, missing } = this.planRead(call);
        return this.finishRead(call, keys, missing, missing.length === 0 ? [] : snap.getManySync(call.bucket, missing));
      }
      case 'put':
        return this.write(call.bucket, call.key, call.value);
      case 'delete':
        return this.write(call.bucket, call.key, null);
      case 'list':
        return undefined;
    }
  }

  private async dispatch(call: BridgeCall): Promise<string> {
    switch (call.op) {
      case 'get':
      case 'getMany':
      case 'read': {
        const { keys, missing } = this.planRead(call);
        const found = missing.length === 0 ? [] : await (await this.snapshot()).getMany(call.bucket, missing);
        return this.finishRead(call, keys, missing, found);
      }
      case 'list':
        return this.list(call.bucket, call.prefix, call.limit, call.startAfter);
      default:
        // Writes never wait.
        return this.dispatchSync(call) as string;
    }
  }

  /** Checks a read; its keys, and those this run has not written (to fetch from the snapshot). */
  private planRead(call: Extract<BridgeCall, { op: 'get' | 'getMany' | 'read' }>): {
    keys: readonly string[];
    missing: readonly string[];
  } {
    const keys = call.op === 'get' ? [call.key] : call.keys;
    if (keys.length > this.limits.maxReadBatch)
      throw new LucienError('INVALID_ARGUMENT', `getMany reads at most ${this.limits.maxReadBatch} keys`);
    this.store.checkRead(call.bucket, keys);
    return {
      keys,
      missing: this.staged.length === 0 ? keys : keys.filter((key) => !this.written.has(call.bucket, key)),
    };
  }

  /** Records what was read (for the commit's guards) and answers: values overlaid with this run's writes. */
  private finishRead(
    call: Extract<BridgeCall, { op: 'get' | 'getMany' | 'read' }>,
    keys: readonly string[],
    missing: readonly string[],
    found: readonly (KeyValue | undefined)[],
  ): string {
    const { bucket } = call;
    const fromSnapshot = new Map<string, KeyValue | undefined>();
    missing.forEach((key, i) => {
      const kv = found[i];
      if (!this.reads.has(bucket, key)) this.reads.set(bucket, key, kv?.modRevision ?? 0);
      fromSnapshot.set(key, kv);
    });
    if (call.op === 'read') {
      // -1 marks the run's own write: an answer the host's cache must not keep.
      return formatRead(
        keys.map((key) => {
          const at = this.written.get(bucket, key);
          if (at !== undefined) return [-1, (this.staged[at] as RunWrite).value ?? 'null'];
          const kv = fromSnapshot.get(key);
          return [kv?.modRevision ?? 0, kv?.value ?? 'null'];
        }),
      );
    }
    const values = keys.map((key) => {
      const at = this.written.get(bucket, key);
      if (at !== undefined) return (this.staged[at] as RunWrite).value ?? 'null';
      return fromSnapshot.get(key)?.value ?? 'null';
    });
    return call.op === 'get' ? (values[0] as string) : `[${values.join(',')}]`;
  }

  private write(bucket: string, key: string, value: string | null): string {
    this.store.checkWrite(bucket, key, value);
    const at = this.written.get(bucket, key);
    if (at !== undefined) {
      this.staged[at] = { bucket, key, value };
      return 'null';
    }
    if (this.staged.length >= this.limits.maxWrites) {
      throw new LucienError('SCRIPT_LIMIT', `a run may write at most ${this.limits.maxWrites} keys`);
    }
    this.written.set(bucket, key, this.staged.length);
    this.staged.push({ bucket, key, value });
    return 'null';
  }

  private async list(bucket: string, prefix: string, limit: number, startAfter: string | null): Promise<string> {
    this.store.checkRead(bucket, []);
    if (!Number.isInteger(limit) || limit < 1 || limit > this.limits.maxReadBatch) {
      throw new LucienError('INVALID_ARGUMENT', `list limit must be between 1 and ${this.limits.maxReadBatch}`);
    }
    const after = startAfter === null || startAfter === '' ? undefined : startAfter;
    this.listed.set(bucket, prefix, true);
    // Own writes in range can hide snapshot rows (deletes) or add rows (puts): read enough to cover both.
    const own = this.staged.filter(
      (w) =>
        w.bucket === bucket && w.key.startsWith(prefix) && (after === undefined || compareBytewise(w.key, after) > 0),
    );
    const rows = await (await this.snapshot()).scan(bucket, prefix, { after, limit: limit + own.length });
    const merged = new Map<string, string>();
    for (const row of rows) merged.set(row.key, row.value);
    for (const w of own) {
      if (w.value === null) merged.delete(w.key);
      else merged.set(w.key, w.value);
    }
    const keys = [...merged.keys()].sort(compareBytewise).slice(0, limit);
    return `[${keys.map((key) => `[${JSON.stringify(key)},${merged.get(key) as string}]`).join(',')}]`;
  }
}
