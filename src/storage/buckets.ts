/**
 * BucketSpace: the one place where a bucket becomes a key prefix (STYLE
 * principle 18). A bucket's keys are the raw keys under `bucket + '/'`.
 * Every storage operation made in bucket terms — point and snapshot reads,
 * scans, commits and their guards, the change history, subscriptions and
 * the list of buckets — is translated to raw keys here and back, and nowhere
 * else; above src/storage/ nothing sees a raw key. BucketView (bucket-view.ts)
 * binds this space to one bucket as a Backend, which the storage conformance
 * suite runs through a second time. This file never validates (store.ts
 * does) and never returns, accepts or leaks a key outside the bucket asked for.
 */
import { isLucienError, LucienError } from '../errors';
import type {
  Backend,
  Capabilities,
  Change,
  CommitResult,
  KeyValue,
  LifecycleStatus,
  ScanOptions,
  Snapshot,
} from './backend';
import { compareBytewise } from './bytewise';
import { Derived, frozenLike } from '../derived';
import type { Listener } from './listeners';

/** Separates a bucket name from its keys; bucket names never contain it. */
const SEPARATOR = '/';

export type BucketMutation =
  | { readonly type: 'put'; readonly bucket: string; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly bucket: string; readonly key: string };

/** A guard on a commit, as backend.ts's Condition, within one bucket. */
export type BucketCondition =
  | { readonly type: 'key'; readonly bucket: string; readonly key: string; readonly modRevision: number }
  | { readonly type: 'prefix'; readonly bucket: string; readonly prefix: string; readonly revision: number };

/** A consistent view of every bucket at one revision. Keys in and out are keys of the bucket named. */
export interface BucketSnapshot {
  readonly revision: number;
  /** One result per key, in order. */
  getMany(bucket: string, keys: readonly string[]): Promise<(KeyValue | undefined)[]>;
  /** getMany without waiting: only where supports.getManySync. */
  getManySync(bucket: string, keys: readonly string[]): (KeyValue | undefined)[];
  /** Keys of `bucket` starting with `prefix`, bytewise; `after` is a key of the bucket. */
  scan(bucket: string, prefix: string, options: ScanOptions): Promise<KeyValue[]>;
  /** Every bucket that holds a key, bytewise, reserved `_` buckets included. */
  listBuckets(): Promise<string[]>;
  release(): Promise<void>;
}

/** A key one commit changed, in bucket terms (no value). */
export interface KeyRef {
  readonly bucket: string;
  readonly key: string;
}

/** A page of one bucket's history. */
export interface ChangePage {
  /** The bucket's changes under the prefix asked for, keys of the bucket. */
  readonly changes: Change[];
  /** The revision read through: the `after` that resumes (equal to `after` when nothing was new). */
  readonly through: number;
}

/** A change of any bucket, its key a key of that bucket: what the Watch fan-out reads. */
export interface BucketChange extends Change {
  readonly bucket: string;
}

const prefixOf = (bucket: string): string => bucket + SEPARATOR;
const rawKey = (bucket: string, key: string): string => bucket + SEPARATOR + key;

/** The (bucket, key) of a raw key; undefined for a raw key outside every bucket (nothing writes these). */
function decodeKey(raw: string): { bucket: string; key: string } | undefined {
  const at = raw.indexOf(SEPARATOR);
  return at <= 0 ? undefined : { bucket: raw.slice(0, at), key: raw.slice(at + 1) };
}

/** A version under another name. Written out rather than spread: it is on every read's path. */
function renamed(kv: KeyValue, key: string): KeyValue {
  return { key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision };
}

/** Versions read by raw key, under the keys they were asked for. */
function named(keys: readonly string[], found: (KeyValue | undefined)[]): (KeyValue | undefined)[] {
  for (let i = 0; i < found.length; i++) {
    const kv = found[i];
    if (kv !== undefined) found[i] = renamed(kv, keys[i] as string);
  }
  return found;
}

/** Scan options of a bucket as raw scan options. */
function rawAfter(bucket: string, options: ScanOptions): ScanOptions {
  // An `after` that sorts before the prefix is harmless: the scan is bounded by the prefix.
  return { ...options, after: options.after === undefined ? undefined : rawKey(bucket, options.after) };
}

/** Takes a bucket's prefix off the raw keys of versions (which all carry it). */
function stripVersions(bucket: string, rows: readonly KeyValue[]): KeyValue[] {
  const length = prefixOf(bucket).length;
  return rows.map((kv) => renamed(kv, kv.key.slice(length)));
}

/** stripVersions of a latest-state scan, once per frozen result (src/derived.ts), frozen in turn. */
const stripLatest = new Derived((rows: readonly KeyValue[], bucket: string) =>
  frozenLike(rows, stripVersions(bucket, rows)),
);

/** Raw changes named by bucket and key (a raw key outside every bucket is never written, so none is dropped). */
function withBuckets(changes: readonly Change[]): BucketChange[] {
  const out: BucketChange[] = [];
  for (const c of changes) {
    const ref = decodeKey(c.key);
    if (ref !== undefined)
      out.push({ type: c.type, bucket: ref.bucket, key: ref.key, value: c.value, revision: c.revision });
  }
  return out;
}

/** Takes a bucket's prefix off the raw keys of changes (which all carry it). */
function stripChanges(bucket: string, changes: readonly Change[]): Change[] {
  const length = prefixOf(bucket).length;
  return changes.map((c) => ({ type: c.type, key: c.key.slice(length), value: c.value, revision: c.revision }));
}

function keyRefs(changes: readonly Change[]): KeyRef[] {
  const refs: KeyRef[] = [];
  for (const change of changes) {
    const ref = decodeKey(change.key);
    if (ref !== undefined) refs.push(ref);
  }
  return refs;
}

/** Keys of one bucket a snapshot's first read will ask for (Backend.snapshot's hint). */
export interface FirstRead {
  readonly bucket: string;
  readonly keys: readonly string[];
}

export class BucketSpace {
  constructor(private readonly backend: Backend) {}

  get supports(): Capabilities {
    return this.backend.supports;
  }

  get status(): LifecycleStatus {
    return this.backend.status;
  }

  currentRevision(): Promise<number> {
    return this.backend.currentRevision();
  }

  oldestRetainedRevision(): Promise<number> {
    return this.backend.oldestRetainedRevision();
  }

  /** The latest committed version of one key (linearizable, as Backend.get). */
  async get(bucket: string, key: string): Promise<KeyValue | undefined> {
    const kv = await this.backend.get(rawKey(bucket, key));
    return kv === undefined ? undefined : renamed(kv, key);
  }

  /** Backend.snapshot; `firstRead` names the keys of one bucket the caller reads first (a hint). */
  async snapshot(firstRead?: FirstRead): Promise<BucketSnapshot> {
    const keys = firstRead?.keys.map((key) => rawKey(firstRead.bucket, key));
    return bucketSnapshot(await this.backend.snapshot(keys));
  }

  /** Keys of `bucket` starting with `prefix` at the latest revision (Backend.scan); `after` is a key of the bucket. */
  async scan(bucket: string, prefix: string, options: ScanOptions): Promise<readonly KeyValue[]> {
    return stripLatest.of(await this.backend.scan(rawKey(bucket, prefix), rawAfter(bucket, options)), bucket);
  }

  /**
   * Backend.commit in bucket terms. A CONDITION_FAILED names the failing key
   * by `details.bucket` and `details.key`.
   */
  async commit(
    mutations: readonly BucketMutation[],
    conditions: readonly BucketCondition[] = [],
  ): Promise<CommitResult> {
    try {
      return await this.backend.commit(
        mutations.map((m) =>
          m.type === 'put'
            ? { type: 'put', key: rawKey(m.bucket, m.key), value: m.value }
            : { type: 'delete', key: rawKey(m.bucket, m.key) },
        ),
        conditions.map((c) =>
          c.type === 'key'
            ? { type: 'key', key: rawKey(c.bucket, c.key), modRevision: c.modRevision }
            : { type: 'prefix', prefix: rawKey(c.bucket, c.prefix), revision: c.revision },
        ),
      );
    } catch (err) {
      const failed =
        isLucienError(err) && err.code === 'CONDITION_FAILED' && err.details.key !== undefined
          ? decodeKey(err.details.key)
          : undefined;
      if (failed === undefined) throw err;
      throw new LucienError('CONDITION_FAILED', (err as LucienError).message, {
        ...(err as LucienError).details,
        ...failed,
      });
    }
  }

  /**
   * One page of `limit` raw changes after `after` (whole commits, as
   * Backend.changesSince), keeping those of `bucket` under `prefix`. Resume
   * from `through`, which moves past other buckets' commits too.
   */
  async changesSince(bucket: string, prefix: string, after: number, limit: number): Promise<ChangePage> {
    const changes = await this.backend.changesSince(after, limit);
    const under = prefixOf(bucket) + prefix;
    return {
      changes: stripChanges(
        bucket,
        changes.filter((c) => c.key.startsWith(under)),
      ),
      through: changes[changes.length - 1]?.revision ?? after,
    };
  }

  /** Calls `listener` after each commit that changed `bucket`, with that bucket's changes. */
  subscribe(bucket: string, listener: Listener): () => void {
    const prefix = prefixOf(bucket);
    return this.backend.subscribe((changes) => {
      const mine = changes.filter((c) => c.key.startsWith(prefix));
      if (mine.length > 0) listener(stripChanges(bucket, mine));
    });
  }

  /**
   * Calls `listener` after every commit with its revision and the (bucket,
   * key) of every key it changed, in revision order; `onLoss` as
   * Backend.subscribe (the stream lost commits, then where it resumes).
   */
  subscribeKeys(
    listener: (revision: number, keys: readonly KeyRef[]) => void,
    onLoss?: (resumesAfter?: number) => void,
  ): () => void {
    return this.backend.subscribe((changes) => {
      const revision = changes[0]?.revision;
      if (revision !== undefined) listener(revision, keyRefs(changes));
    }, onLoss);
  }

  /** The commits after `after` (whole commits, as Backend.changesSince), each as its revision and the keys it changed. */
  async keysChangedSince(after: number, limit: number): Promise<{ revision: number; keys: KeyRef[] }[]> {
    const out: { revision: number; keys: KeyRef[] }[] = [];
    for (const change of await this.backend.changesSince(after, limit)) {
      let last = out[out.length - 1];
      if (last === undefined || last.revision !== change.revision)
        out.push((last = { revision: change.revision, keys: [] }));
      const ref = decodeKey(change.key);
      if (ref !== undefined) last.keys.push(ref);
    }
    return out;
  }

  /**
   * As Backend.changesSince, for every bucket at once: each change named by
   * its bucket and key, in commit order, whole commits (the Watch fan-out's
   * catch-up and the whole-store Watch).
   */
  async changesSinceAll(after: number, limit: number): Promise<BucketChange[]> {
    return withBuckets(await this.backend.changesSince(after, limit));
  }

  /** Calls `listener` after every commit with all its changes, each named by its bucket and key. */
  subscribeAll(listener: (changes: readonly BucketChange[]) => void): () => void {
    return this.backend.subscribe((changes) => listener(withBuckets(changes)));
  }

  /** Calls `listener` after every commit, to any bucket: a wake-up, with no keys. */
  onCommit(listener: () => void): () => void {
    return this.backend.subscribe(() => listener());
  }

  /** Every bucket that holds a key, bytewise, reserved `_` buckets included (see listBuckets below). */
  async listBuckets(): Promise<string[]> {
    const snapshot = await this.snapshot();
    try {
      return await snapshot.listBuckets();
    } finally {
      await snapshot.release();
    }
  }
}

/**
 * Distinct bucket names, sorted bytewise, found by skip-scan: one single-key
 * scan per bucket, never one per key. After bucket b, seek strictly past
 * b + '0': '0' is the character right after '/', so every key of b sorts
 * below b + '0', and b + '0' itself (no separator) is never a bucket key.
 * Keys meet buckets in `bucket + '/'` order ('a-b/' before 'a/'), hence the
 * final sort. Reserved `_` buckets are included; filtering is the caller's.
 */
async function listBuckets(snapshot: Snapshot): Promise<string[]> {
  const buckets: string[] = [];
  let after: string | undefined;
  for (;;) {
    const [first] = await snapshot.scan('', { after, limit: 1, keysOnly: true });
    if (first === undefined) return buckets.sort(compareBytewise);
    const bucket = decodeKey(first.key)?.bucket;
    // A raw key outside every bucket (nothing writes these): step over it.
    after = bucket === undefined ? first.key : bucket + String.fromCharCode(SEPARATOR.charCodeAt(0) + 1);
    if (bucket !== undefined) buckets.push(bucket);
  }
}

function bucketSnapshot(inner: Snapshot): BucketSnapshot {
  const raw = (bucket: string, keys: readonly string[]): string[] => keys.map((key) => rawKey(bucket, key));
  return {
    revision: inner.revision,
    getMany: async (bucket, keys) => named(keys, await inner.getMany(raw(bucket, keys))),
    getManySync: (bucket, keys) => named(keys, inner.getManySync(raw(bucket, keys))),
    scan: async (bucket, prefix, options) =>
      stripVersions(bucket, await inner.scan(rawKey(bucket, prefix), rawAfter(bucket, options))),
    listBuckets: () => listBuckets(inner),
    release: () => inner.release(),
  };
}
