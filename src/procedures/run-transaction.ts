/**
 * The bucket bridge: one transaction per script run, shared by every engine.
 * Reads come from one snapshot, taken at the run's first read (or, for a host
 * answering from its read cache, before the run starts: open()), overlaid with the
 * run's own buffered writes; every key read (found or not) and every listed
 * prefix is remembered so the commit can be guarded against concurrent
 * changes (serializable runs). Every call is checked here (its shape by
 * bridge-call.ts, a host's cached read set by cached-reads.ts), whatever the
 * host sent: an escaped script can speak the protocol, not bypass these rules.
 * Names, keys and values are checked by the store's rules (store.ts) and
 * read through its bucket space: this file never builds a storage key.
 */
import type { BridgeCall, BridgeReply } from '../../engines/protocol';
import { formatRead } from '../../engines/host/read-answer';
import { isLucienError, LucienError } from '../errors';
import type { KeyValue } from '../storage/backend';
import type { BucketCondition, BucketMutation, BucketSnapshot, FirstRead } from '../storage/buckets';
import { compareBytewise } from '../storage/bytewise';
import type { Store } from '../storage/store';
import { parseCall } from './bridge-call';
import { type CachedCalls, recordCachedReads } from './cached-reads';
import { PerKey } from './per-key';

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

/** Whether the caller may read / write a bucket; a message saying why not, or undefined. */
export type BucketAccess = (bucket: string, mode: 'read' | 'write') => string | undefined;

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
   * (so waiting for the lock can never starve hosts). Opened at a read, it is
   * told which keys (a remote backend reads them with the revision).
   */
  constructor(
    private readonly store: Store,
    private readonly openSnapshot: (firstRead?: FirstRead) => Promise<BucketSnapshot>,
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
   * and writes nothing (cached-reads.ts).
   */
  recordCached(cached: unknown): CachedCalls {
    return recordCachedReads(cached, this.snap?.revision, this.store, this.reads, this.listed);
  }

  async release(): Promise<void> {
    const snap = this.snap ?? (this.opening ? await this.opening.catch(() => undefined) : undefined);
    await snap?.release();
  }

  private async snapshot(firstRead?: FirstRead): Promise<BucketSnapshot> {
    if (this.snap !== undefined) return this.snap;
    this.opening ??= this.openSnapshot(firstRead);
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
        const found =
          missing.length === 0
            ? []
            : await (await this.snapshot({ bucket: call.bucket, keys: missing })).getMany(call.bucket, missing);
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
