/**
 * The store façade: what every client-facing path (gRPC edge, scripts) uses
 * to touch data. It validates buckets, keys, values and revisions once, for
 * client requests here and for the script transaction through checkRead and
 * checkWrite, and turns requests into snapshots and commits of the bucket
 * space (buckets.ts), the one place buckets become raw keys. Backends stay
 * small and never see an unvalidated input. Must never import the gRPC edge.
 */
import { Derived, frozenLike } from '../derived';
import { LucienError } from '../errors';
import type { Backend, KeyValue } from './backend';
import { type BucketCondition, type BucketMutation, BucketSpace } from './buckets';
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
  | {
      readonly type: 'put';
      readonly bucket: string;
      readonly key: string;
      readonly value: string;
      readonly ifRevision?: number;
    }
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

/** A page of List: `items` frozen when the backend answered with a frozen result (src/derived.ts). */
export interface ListPage {
  readonly items: readonly Item[];
  /** Whether another page exists. */
  readonly more: boolean;
}

/** The page in `rows` read with one row more than `limit`, once per frozen result. */
const pageOf = new Derived((rows: readonly Item[], limit: number): ListPage =>
  rows.length > limit ? { items: frozenLike(rows, rows.slice(0, limit)), more: true } : { items: rows, more: false },
);

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
export const MAX_BATCH_KEYS = 1000;

/** Writes into system buckets are allowed only to internal callers (script registration). */
export interface WriteAccess {
  readonly system?: boolean;
}

export class Store {
  /** Every bucket, keyed by (bucket, key): the script transaction, Watch and the script cache read through it. */
  readonly space: BucketSpace;

  constructor(
    backend: Backend,
    readonly limits: StoreLimits,
  ) {
    this.space = new BucketSpace(backend);
  }

  async get(bucket: string, key: string): Promise<Item> {
    this.checkRead(bucket, [key]);
    const found = await this.space.get(bucket, key);
    if (found === undefined)
      throw new LucienError('NOT_FOUND', `key ${JSON.stringify(key)} not found in bucket "${bucket}"`);
    return found;
  }

  /** One put: the same checks and errors as a batch of one, without a batch's bookkeeping (the hot path). */
  async put(
    bucket: string,
    key: string,
    value: string,
    ifRevision?: number,
    access: WriteAccess = {},
  ): Promise<number> {
    this.check(bucket, key, value, access.system === true ? 'read' : 'write', ifRevision);
    const { revision } = await this.commit(
      [{ type: 'put', bucket, key, value }],
      ifRevision === undefined ? [] : [{ type: 'key', bucket, key, modRevision: ifRevision }],
    );
    return revision;
  }

  async delete(
    bucket: string,
    key: string,
    ifRevision?: number,
    access: WriteAccess = {},
  ): Promise<{ revision: number; deleted: boolean }> {
    const { revision, applied } = await this.batch([{ type: 'delete', bucket, key, ifRevision }], access);
    return { revision, deleted: applied[0] === true };
  }

  /** Applies every op atomically under one revision, or none of them. */
  async batch(
    ops: readonly BatchOp[],
    access: WriteAccess = {},
  ): Promise<{ revision: number; applied: readonly boolean[] }> {
    if (ops.length === 0) throw new LucienError('INVALID_ARGUMENT', 'a batch needs at least one operation');
    if (ops.length > MAX_BATCH_KEYS)
      throw new LucienError(
        'INVALID_ARGUMENT',
        `a batch holds at most ${MAX_BATCH_KEYS} operations, got ${ops.length}`,
      );
    const mutations: BucketMutation[] = [];
    const conditions: BucketCondition[] = [];
    const seen = new Map<string, Set<string>>();
    for (const op of ops) {
      const value = op.type === 'put' ? op.value : null;
      this.check(op.bucket, op.key, value, access.system === true ? 'read' : 'write', op.ifRevision);
      const keys = seen.get(op.bucket) ?? new Set<string>();
      if (keys.has(op.key))
        throw new LucienError(
          'INVALID_ARGUMENT',
          `key ${JSON.stringify(op.key)} of bucket "${op.bucket}" appears twice in one batch`,
        );
      seen.set(op.bucket, keys.add(op.key));
      mutations.push(
        value === null
          ? { type: 'delete', bucket: op.bucket, key: op.key }
          : { type: 'put', bucket: op.bucket, key: op.key, value },
      );
      if (op.ifRevision !== undefined)
        conditions.push({ type: 'key', bucket: op.bucket, key: op.key, modRevision: op.ifRevision });
    }
    return this.commit(mutations, conditions);
  }

  /** Commits checked mutations; a failed key condition names the bucket's key, not the raw one. */
  private async commit(
    mutations: readonly BucketMutation[],
    conditions: readonly BucketCondition[],
  ): Promise<{ revision: number; applied: readonly boolean[] }> {
    try {
      return await this.space.commit(mutations, conditions);
    } catch (err) {
      const { code, details } = err as LucienError;
      if (code === 'CONDITION_FAILED' && details?.bucket !== undefined && details.key !== undefined) {
        throw new LucienError(
          'CONDITION_FAILED',
          `if_revision condition failed for key ${JSON.stringify(details.key)} in bucket "${details.bucket}"; nothing was written`,
          { key: details.key },
        );
      }
      throw err;
    }
  }

  /** Keys of a bucket in bytewise order; `more` says whether another page exists. */
  async list(bucket: string, options: ListOptions): Promise<ListPage> {
    this.checkRead(bucket, []);
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
      throw new LucienError('INVALID_ARGUMENT', `limit must be between 1 and ${MAX_LIST_LIMIT}, got ${options.limit}`);
    }
    const rows = await this.space.scan(bucket, options.prefix, {
      after: options.startAfter === '' ? undefined : options.startAfter,
      limit: options.limit + 1,
      keysOnly: options.keysOnly,
    });
    return pageOf.of(rows, options.limit);
  }

  /** Reads every ref from one snapshot; undefined where a key is missing. */
  async batchGet(refs: readonly KeyRef[]): Promise<{ revision: number; entries: (Item | undefined)[] }> {
    if (refs.length > MAX_BATCH_KEYS)
      throw new LucienError('INVALID_ARGUMENT', `BatchGet reads at most ${MAX_BATCH_KEYS} keys, got ${refs.length}`);
    for (const ref of refs) this.checkRead(ref.bucket, [ref.key]);
    /** Positions in `refs` per bucket, so each bucket is one getMany. */
    const positions = new Map<string, number[]>();
    refs.forEach(({ bucket }, i) => {
      const at = positions.get(bucket);
      if (at === undefined) positions.set(bucket, [i]);
      else at.push(i);
    });
    const snapshot = await this.space.snapshot();
    try {
      const entries: (Item | undefined)[] = new Array(refs.length).fill(undefined);
      for (const [bucket, at] of positions) {
        const found = await snapshot.getMany(
          bucket,
          at.map((i) => (refs[i] as KeyRef).key),
        );
        at.forEach((i, j) => (entries[i] = found[j]));
      }
      return { revision: snapshot.revision, entries };
    } finally {
      await snapshot.release();
    }
  }

  /** Every bucket that holds a key, bytewise, reserved `_` buckets included. */
  listBuckets(): Promise<string[]> {
    return this.space.listBuckets();
  }

  /** Checks a read of `keys` of `bucket` (reserved buckets may be read). */
  checkRead(bucket: string, keys: readonly string[]): void {
    checkBucket(bucket, 'read');
    for (const key of keys) checkKey(key, this.limits.maxKeyBytes);
  }

  /** Checks a client's or a script's write: a put (value: JSON text) or a delete (null). */
  checkWrite(bucket: string, key: string, value: string | null): void {
    this.check(bucket, key, value, 'write');
  }

  private check(bucket: string, key: string, value: string | null, mode: 'read' | 'write', ifRevision?: number): void {
    checkBucket(bucket, mode);
    checkKey(key, this.limits.maxKeyBytes);
    checkRevision(ifRevision);
    if (value !== null) checkValue(value, this.limits.maxValueBytes, this.limits.maxJsonDepth);
  }
}
