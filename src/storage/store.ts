/**
 * The store façade: what every client-facing path (gRPC edge, scripts) uses
 * to touch data. It validates buckets, keys, values and revisions once, maps
 * (bucket, key) to raw keys through the one bucket view (prefixed.ts), and
 * turns requests into backend snapshots and commits. Backends stay small and
 * never see an unvalidated input. Must never import the gRPC edge.
 */
import { LucienError } from '../errors';
import type { Backend, Condition, KeyValue, Mutation } from './backend';
import { compareBytewise } from './bytewise';
import { bucketPrefix, decodeKey, encodeKey, listBuckets } from './prefixed';
import { checkBucket, checkKey, checkRevision, checkValue } from './validate';

export interface StoreLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /** Deepest nesting a value may have (LUCIEN_MAX_JSON_DEPTH; default 64). */
  readonly maxJsonDepth?: number;
}

export interface KeyRef {
  readonly bucket: string;
  readonly key: string;
}

/** One operation of an atomic Batch. */
export type BatchOp =
  | { readonly type: 'put'; readonly bucket: string; readonly key: string; readonly value: string; readonly ifRevision?: number }
  | { readonly type: 'delete'; readonly bucket: string; readonly key: string; readonly ifRevision?: number };

export interface ListOptions {
  readonly prefix: string;
  /** Return keys strictly after this one ('' = from the start). */
  readonly startAfter: string;
  readonly limit: number;
  readonly keysOnly: boolean;
}

/** A KeyValue with the bucket prefix taken off. */
export type Item = KeyValue;

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
export const MAX_BATCH_KEYS = 1000;

/** Writes into system buckets are allowed only to internal callers (script registration). */
export interface WriteAccess {
  readonly system?: boolean;
}

export class Store {
  constructor(
    readonly backend: Backend,
    readonly limits: StoreLimits,
  ) {}

  async get(bucket: string, key: string): Promise<Item> {
    this.checkRef(bucket, key, 'read');
    const found = await this.backend.get(encodeKey(bucket, key));
    if (found === undefined) throw new LucienError('NOT_FOUND', `key ${JSON.stringify(key)} not found in bucket "${bucket}"`);
    return { ...found, key };
  }

  async put(bucket: string, key: string, value: string, ifRevision?: number, access: WriteAccess = {}): Promise<number> {
    const { revision } = await this.batch([{ type: 'put', bucket, key, value, ifRevision }], access);
    return revision;
  }

  async delete(bucket: string, key: string, ifRevision?: number, access: WriteAccess = {}): Promise<{ revision: number; deleted: boolean }> {
    const { revision, applied } = await this.batch([{ type: 'delete', bucket, key, ifRevision }], access);
    return { revision, deleted: applied[0] === true };
  }

  /** Applies every op atomically under one revision, or none of them. */
  async batch(ops: readonly BatchOp[], access: WriteAccess = {}): Promise<{ revision: number; applied: readonly boolean[] }> {
    if (ops.length === 0) throw new LucienError('INVALID_ARGUMENT', 'a batch needs at least one operation');
    if (ops.length > MAX_BATCH_KEYS) throw new LucienError('INVALID_ARGUMENT', `a batch holds at most ${MAX_BATCH_KEYS} operations, got ${ops.length}`);
    const mutations: Mutation[] = [];
    const conditions: Condition[] = [];
    const seen = new Set<string>();
    for (const op of ops) {
      this.checkRef(op.bucket, op.key, access.system === true ? 'read' : 'write');
      checkRevision(op.ifRevision);
      const raw = encodeKey(op.bucket, op.key);
      if (seen.has(raw)) throw new LucienError('INVALID_ARGUMENT', `key ${JSON.stringify(op.key)} of bucket "${op.bucket}" appears twice in one batch`);
      seen.add(raw);
      if (op.type === 'put') {
        checkValue(op.value, this.limits.maxValueBytes, this.limits.maxJsonDepth);
        mutations.push({ type: 'put', key: raw, value: op.value });
      } else {
        mutations.push({ type: 'delete', key: raw });
      }
      if (op.ifRevision !== undefined) conditions.push({ type: 'key', key: raw, modRevision: op.ifRevision });
    }
    try {
      return await this.backend.commit(mutations, conditions);
    } catch (err) {
      const key = (err as LucienError).details?.key;
      if ((err as LucienError).code === 'CONDITION_FAILED' && typeof key === 'string') {
        const ref = decodeKey(key);
        throw new LucienError('CONDITION_FAILED', `if_revision condition failed for key ${JSON.stringify(ref.key)} in bucket "${ref.bucket}"; nothing was written`, { key: ref.key });
      }
      throw err;
    }
  }

  /** Keys of a bucket in bytewise order; `more` says whether another page exists. */
  async list(bucket: string, options: ListOptions): Promise<{ items: Item[]; more: boolean }> {
    checkBucket(bucket, 'read');
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
      throw new LucienError('INVALID_ARGUMENT', `limit must be between 1 and ${MAX_LIST_LIMIT}, got ${options.limit}`);
    }
    const prefix = bucketPrefix(bucket);
    const snapshot = await this.backend.snapshot();
    try {
      const rows = await snapshot.scan(prefix + options.prefix, {
        // An `after` that sorts before the prefix is harmless: the scan is bounded by the prefix.
        after: options.startAfter === '' ? undefined : prefix + options.startAfter,
        limit: options.limit + 1,
        keysOnly: options.keysOnly,
      });
      const more = rows.length > options.limit;
      const items = rows.slice(0, options.limit).map((row) => ({ ...row, key: row.key.slice(prefix.length) }));
      return { items, more };
    } finally {
      await snapshot.release();
    }
  }

  /** Reads every ref from one snapshot; undefined where a key is missing. */
  async batchGet(refs: readonly KeyRef[]): Promise<{ revision: number; entries: (Item | undefined)[] }> {
    if (refs.length > MAX_BATCH_KEYS) throw new LucienError('INVALID_ARGUMENT', `BatchGet reads at most ${MAX_BATCH_KEYS} keys, got ${refs.length}`);
    for (const ref of refs) this.checkRef(ref.bucket, ref.key, 'read');
    const snapshot = await this.backend.snapshot();
    try {
      const found = await snapshot.getMany(refs.map((ref) => encodeKey(ref.bucket, ref.key)));
      return { revision: snapshot.revision, entries: found.map((kv, i) => (kv === undefined ? undefined : { ...kv, key: (refs[i] as KeyRef).key })) };
    } finally {
      await snapshot.release();
    }
  }

  async listBuckets(): Promise<string[]> {
    const snapshot = await this.backend.snapshot();
    try {
      return (await listBuckets(snapshot)).sort(compareBytewise);
    } finally {
      await snapshot.release();
    }
  }

  private checkRef(bucket: string, key: string, mode: 'read' | 'write'): void {
    checkBucket(bucket, mode);
    checkKey(key, this.limits.maxKeyBytes);
  }
}
