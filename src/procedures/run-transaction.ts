/**
 * The bucket bridge: one transaction per script run, shared by every engine.
 * Reads come from one snapshot, taken at the run's first read, overlaid with the
 * run's own buffered writes; every key read (found or not) and every listed
 * prefix is remembered so the commit can be guarded against concurrent
 * changes (serializable runs). Every call is checked here, whatever the host
 * sent: an escaped script can speak the protocol, not bypass these rules.
 */
import type { BridgeCall, BridgeReply } from '../../engines/protocol';
import { isLucienError, LucienError } from '../errors';
import type { Condition, KeyValue, Mutation, Snapshot } from '../storage/backend';
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
      if (!Array.isArray(c.keys)) throw malformed('getMany needs a list of keys');
      if (!c.keys.every((k) => typeof k === 'string')) throw new LucienError('INVALID_KEY', 'keys must be strings');
      return { op: 'getMany', bucket: c.bucket, keys: c.keys as string[] };
    case 'list':
      if (typeof c.prefix !== 'string') throw new LucienError('INVALID_ARGUMENT', 'prefix must be a string');
      if (typeof c.limit !== 'number') throw new LucienError('INVALID_ARGUMENT', 'list limit must be a number');
      if (c.startAfter !== null && typeof c.startAfter !== 'string') throw new LucienError('INVALID_ARGUMENT', 'start_after must be a string');
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
  if (isLucienError(err) && err.code !== 'INTERNAL' && err.code !== 'UNAVAILABLE' && err.code !== 'SCRIPT_LIMIT') return { error: err.message };
  throw err;
}

/** Whether the caller may read / write a bucket; a message saying why not, or undefined. */
export type BucketAccess = (bucket: string, mode: 'read' | 'write') => string | undefined;

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
    /** The caller's rights (invoker rights): every bucket a call names is checked against them. */
    private readonly access?: BucketAccess,
  ) {}

  /** A call was refused for the caller's rights (the script saw PermissionDenied). */
  denied = false;

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

  /** The answer if it needs no waiting, else undefined (having checked and recorded nothing). */
  private dispatchSync(call: BridgeCall): string | undefined {
    switch (call.op) {
      case 'get':
      case 'getMany': {
        // Until the snapshot is open (or on a backend without synchronous reads) the read waits: dispatch().
        const read = this.snap?.getManySync;
        if (read === undefined) return undefined;
        const { raws, missing } = this.planRead(call);
        return this.finishRead(call, raws, missing, missing.length === 0 ? [] : read(missing));
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
      case 'getMany': {
        const { raws, missing } = this.planRead(call);
        const found = missing.length === 0 ? [] : await (await this.snapshot()).getMany(missing);
        return this.finishRead(call, raws, missing, found);
      }
      case 'list':
        return this.list(call.bucket, call.prefix, call.limit, call.startAfter);
      default:
        // Writes never wait.
        return this.dispatchSync(call) as string;
    }
  }

  /** Checks a read; its raw keys, and those this run has not written (to fetch from the snapshot). */
  private planRead(call: Extract<BridgeCall, { op: 'get' | 'getMany' }>): { raws: string[]; missing: string[] } {
    const keys = call.op === 'get' ? [call.key] : call.keys;
    if (keys.length > this.limits.maxReadBatch) throw new LucienError('INVALID_ARGUMENT', `getMany reads at most ${this.limits.maxReadBatch} keys`);
    checkBucket(call.bucket, 'read');
    const raws = keys.map((key) => {
      checkKey(key, this.limits.maxKeyBytes);
      return encodeKey(call.bucket, key);
    });
    return { raws, missing: this.writes.size === 0 ? raws : raws.filter((raw) => !this.writes.has(raw)) };
  }

  /** Records what was read (for the commit's guards) and answers: values overlaid with this run's writes. */
  private finishRead(call: BridgeCall, raws: readonly string[], missing: readonly string[], found: readonly (KeyValue | undefined)[]): string {
    const fromSnapshot = new Map<string, string | undefined>();
    missing.forEach((raw, i) => {
      const kv = found[i];
      if (!this.reads.has(raw)) this.reads.set(raw, kv?.modRevision ?? 0);
      fromSnapshot.set(raw, kv?.value);
    });
    const values = raws.map((raw) => {
      const own = this.writes.get(raw);
      if (own !== undefined) return own.value ?? 'null';
      return fromSnapshot.get(raw) ?? 'null';
    });
    return call.op === 'get' ? (values[0] as string) : `[${values.join(',')}]`;
  }

  private write(bucket: string, key: string, value: string | null): string {
    checkBucket(bucket, 'write');
    checkKey(key, this.limits.maxKeyBytes);
    if (value !== null) {
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
    checkBucket(bucket, 'read');
    if (!Number.isInteger(limit) || limit < 1 || limit > this.limits.maxReadBatch) {
      throw new LucienError('INVALID_ARGUMENT', `list limit must be between 1 and ${this.limits.maxReadBatch}`);
    }
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
