/**
 * The bucket bridge: one transaction per script run, shared by every engine.
 * Reads come from one snapshot, taken at the run's first read, overlaid with the
 * run's own buffered writes; every key read (found or not) and every listed
 * prefix is remembered so the commit can be guarded against concurrent
 * changes (serializable runs). Every call is checked here, whatever the host
 * sent: an escaped script can speak the protocol, not bypass these rules.
 */
import type { BridgeCall } from '../../engines/protocol';
import { isLucienError, LucienError } from '../errors';
import type { Condition, Mutation, Snapshot } from '../storage/backend';
import { compareBytewise } from '../storage/bytewise';
import { bucketPrefix, encodeKey } from '../storage/prefixed';
import { checkBucket, checkKey, checkValue } from '../storage/validate';

export interface BridgeLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
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

export class RunTransaction {
  private snap: Snapshot | undefined;
  private opening: Promise<Snapshot> | undefined;
  /** raw key -> mod revision seen at the snapshot (0 = absent). */
  private readonly reads = new Map<string, number>();
  private readonly listedPrefixes = new Set<string>();
  /** raw key -> write, in first-write order. */
  private readonly writes = new Map<string, RunWrite>();

  /**
   * `openSnapshot` is called at the first read, not before: a run that reads
   * nothing costs no snapshot, and an exclusive run takes its lock only once
   * it holds an engine host (so waiting for the lock can never starve hosts).
   */
  constructor(
    private readonly openSnapshot: () => Promise<Snapshot>,
    private readonly limits: BridgeLimits,
  ) {}

  /** The snapshot's revision, or undefined if the run read nothing. */
  get revision(): number | undefined {
    return this.snap?.revision;
  }

  async release(): Promise<void> {
    const snap = this.snap ?? (this.opening ? await this.opening.catch(() => undefined) : undefined);
    await snap?.release();
  }

  private async snapshot(): Promise<Snapshot> {
    if (this.snap !== undefined) return this.snap;
    this.opening ??= this.openSnapshot();
    this.snap = await this.opening;
    return this.snap;
  }

  /** Answers one bridge call; failures the script caused become `{ error }` for it to raise. */
  async handle(call: BridgeCall): Promise<{ value: string } | { error: string }> {
    try {
      return { value: await this.dispatch(call) };
    } catch (err) {
      if (isLucienError(err) && err.code !== 'INTERNAL' && err.code !== 'UNAVAILABLE') return { error: err.message };
      throw err;
    }
  }

  get writeList(): RunWrite[] {
    return [...this.writes.values()];
  }

  get readOnly(): boolean {
    return this.writes.size === 0;
  }

  mutations(): Mutation[] {
    return [...this.writes].map(([raw, w]) => (w.value === null ? { type: 'delete', key: raw } : { type: 'put', key: raw, value: w.value }));
  }

  /** Guards: nothing this run read or listed changed since its snapshot. */
  conditions(): Condition[] {
    const conditions: Condition[] = [];
    for (const [key, modRevision] of this.reads) conditions.push({ type: 'key', key, modRevision });
    for (const prefix of this.listedPrefixes) conditions.push({ type: 'prefix', prefix, revision: this.snap?.revision ?? 0 });
    return conditions;
  }

  private async dispatch(call: BridgeCall): Promise<string> {
    if (typeof call !== 'object' || call === null) throw new LucienError('INVALID_ARGUMENT', 'malformed bridge call');
    switch (call.op) {
      case 'get':
        return (await this.readMany(call.bucket, [call.key]))[0] ?? 'null';
      case 'getMany': {
        if (!Array.isArray(call.keys)) throw new LucienError('INVALID_ARGUMENT', 'getMany needs a list of keys');
        if (call.keys.length > this.limits.maxReadBatch) throw new LucienError('INVALID_ARGUMENT', `getMany reads at most ${this.limits.maxReadBatch} keys`);
        const values = await this.readMany(call.bucket, call.keys);
        return `[${values.map((v) => v ?? 'null').join(',')}]`;
      }
      case 'put':
        return this.write(call.bucket, call.key, call.value);
      case 'delete':
        return this.write(call.bucket, call.key, null);
      case 'list':
        return this.list(call.bucket, call.prefix, call.limit, call.startAfter);
      default:
        throw new LucienError('INVALID_ARGUMENT', `unknown bridge operation ${JSON.stringify((call as { op?: unknown }).op)}`);
    }
  }

  /** Values as JSON text (undefined where absent), overlaying this run's writes. */
  private async readMany(bucket: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    checkBucket(String(bucket), 'read');
    const raws = keys.map((key) => {
      if (typeof key !== 'string') throw new LucienError('INVALID_KEY', 'keys must be strings');
      checkKey(key, this.limits.maxKeyBytes);
      return encodeKey(bucket, key);
    });
    const missing = raws.filter((raw) => !this.writes.has(raw));
    const found = missing.length === 0 ? [] : await (await this.snapshot()).getMany(missing);
    const fromSnapshot = new Map<string, string | undefined>();
    missing.forEach((raw, i) => {
      const kv = found[i];
      if (!this.reads.has(raw)) this.reads.set(raw, kv?.modRevision ?? 0);
      fromSnapshot.set(raw, kv?.value);
    });
    return raws.map((raw) => {
      const own = this.writes.get(raw);
      if (own !== undefined) return own.value ?? undefined;
      return fromSnapshot.get(raw);
    });
  }

  private write(bucket: string, key: string, value: string | null): string {
    checkBucket(String(bucket), 'write');
    if (typeof key !== 'string') throw new LucienError('INVALID_KEY', 'key must be a string');
    checkKey(key, this.limits.maxKeyBytes);
    if (value !== null) {
      if (typeof value !== 'string') throw new LucienError('INVALID_VALUE', 'value must be JSON text');
      checkValue(value, this.limits.maxValueBytes);
    }
    const raw = encodeKey(bucket, key);
    if (!this.writes.has(raw) && this.writes.size >= this.limits.maxWrites) {
      throw new LucienError('SCRIPT_LIMIT', `a run may write at most ${this.limits.maxWrites} keys`);
    }
    this.writes.set(raw, { bucket, key, value });
    return 'null';
  }

  private async list(bucket: string, prefix: string, limit: number, startAfter: string | null): Promise<string> {
    checkBucket(String(bucket), 'read');
    if (typeof prefix !== 'string') throw new LucienError('INVALID_ARGUMENT', 'prefix must be a string');
    if (!Number.isInteger(limit) || limit < 1 || limit > this.limits.maxReadBatch) {
      throw new LucienError('INVALID_ARGUMENT', `list limit must be between 1 and ${this.limits.maxReadBatch}`);
    }
    if (startAfter !== null && typeof startAfter !== 'string') throw new LucienError('INVALID_ARGUMENT', 'start_after must be a string');
    const base = bucketPrefix(bucket);
    const rawPrefix = base + prefix;
    const after = startAfter === null || startAfter === '' ? undefined : base + startAfter;
    this.listedPrefixes.add(rawPrefix);
    // Own writes in range can hide snapshot rows (deletes) or add rows (puts): read enough to cover both.
    const own = [...this.writes].filter(([raw]) => raw.startsWith(rawPrefix) && (after === undefined || compareBytewise(raw, after) > 0));
    const rows = await (await this.snapshot()).scan(rawPrefix, { after, limit: limit + own.length });
    const merged = new Map<string, string>();
    for (const row of rows) merged.set(row.key, row.value);
    for (const [raw, w] of own) {
      if (w.value === null) merged.delete(raw);
      else merged.set(raw, w.value);
    }
    const keys = [...merged.keys()].sort(compareBytewise).slice(0, limit);
    return `[${keys.map((raw) => `[${JSON.stringify(raw.slice(base.length))},${merged.get(raw) as string}]`).join(',')}]`;
  }
}
