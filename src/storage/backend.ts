/**
 * The storage interface: one small, asynchronous, revision-aware contract that
 * every backend (memory, leveldb, etcd) implements and that nothing above
 * src/storage/ sees past. Keys here are raw strings; buckets are a key-prefix
 * view applied once, in buckets.ts. Values are opaque JSON text: validation,
 * size limits and bucket rules live in front of this interface (store.ts),
 * never in a backend. The rules the in-process backends share (lifecycle,
 * conditions, revisions) live once in core.ts. A backend must never import
 * the gRPC edge.
 */

/** One stored key with its revisions (as in etcd's mvccpb.KeyValue). */
export interface KeyValue {
  readonly key: string;
  /** JSON text; empty string when read with keysOnly. */
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export type Mutation =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string };

/**
 * A guard on a commit. `modRevision: 0` means "the key must be absent";
 * n > 0 means "the key must exist with mod_revision n". A `prefix` guard
 * means no key starting with `prefix` was put or deleted after `revision`
 * (phantom protection for script transactions that listed a range).
 */
export type Condition =
  | { readonly type: 'key'; readonly key: string; readonly modRevision: number }
  | { readonly type: 'prefix'; readonly prefix: string; readonly revision: number };

export interface ScanOptions {
  /** Only keys strictly greater than this one (bytewise). */
  readonly after?: string;
  readonly limit: number;
  readonly keysOnly?: boolean;
}

export interface CommitResult {
  /** Revision of this commit; the unchanged current revision when nothing changed. */
  readonly revision: number;
  /** Per mutation: for a delete, whether the key existed; for a put, true. */
  readonly applied: readonly boolean[];
}

/** One change in the history, as Watch delivers it. */
export interface Change {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** JSON text for puts; empty for deletes. */
  readonly value: string;
  readonly revision: number;
}

/** A consistent, read-only view of the store at one revision. */
export interface Snapshot {
  readonly revision: number;
  get(key: string): Promise<KeyValue | undefined>;
  /** One result per key, in order, all from this snapshot. */
  getMany(keys: readonly string[]): Promise<(KeyValue | undefined)[]>;
  /**
   * getMany without waiting, only where `supports.getManySync` (embedded
   * backends); elsewhere it throws. The script transaction answers a
   * script's point reads in the same tick they arrive with it.
   */
  getManySync(keys: readonly string[]): (KeyValue | undefined)[];
  /** Keys that start with `prefix`, ascending bytewise (UTF-8) order. */
  scan(prefix: string, options: ScanOptions): Promise<KeyValue[]>;
  /** Frees the snapshot; safe to call twice. Reads after it reject. */
  release(): Promise<void>;
}

/** What a backend can do, declared rather than sniffed (abstract-level's `supports`). */
export interface Capabilities {
  /** Snapshot reads at a past revision while writes go on. */
  readonly snapshots: boolean;
  /** Keeps a window of past changes for Watch. */
  readonly history: boolean;
  /** Data lives outside this process (other servers may commit too). */
  readonly remote: boolean;
  /** Survives a restart of the process. */
  readonly persistent: boolean;
  /** Snapshots answer getManySync (reads without waiting). */
  readonly getManySync: boolean;
}

export type LifecycleStatus = 'opening' | 'open' | 'closing' | 'closed';

export interface Backend {
  readonly supports: Capabilities;
  readonly status: LifecycleStatus;
  open(): Promise<void>;
  /** Graceful: waits for in-flight commits, then closes. Safe to call twice. */
  close(): Promise<void>;

  /** The revision of the latest commit (0 for an empty store). */
  currentRevision(): Promise<number>;
  /**
   * The latest committed version of one key (linearizable: it reflects every
   * commit acknowledged before the call). Cheaper than a snapshot read.
   */
  get(key: string): Promise<KeyValue | undefined>;
  /**
   * A consistent view at the current revision. Release it when done.
   * `firstRead`: keys the caller will read first, a hint: a remote backend
   * may read them with the revision, in one round trip, and its getMany of
   * them then needs none. What the snapshot answers is the same either way.
   */
  snapshot(firstRead?: readonly string[]): Promise<Snapshot>;
  /**
   * Keys that start with `prefix` at the latest revision (as Snapshot.scan,
   * from one consistent state reflecting every commit acknowledged before
   * the call), without the cost of a snapshot: what List reads. An embedded
   * backend may answer a repeated scan of an unchanged range with the same
   * frozen array (and frozen rows), so what is derived from a frozen result
   * may be remembered by its identity (src/derived.ts).
   */
  scan(prefix: string, options: ScanOptions): Promise<readonly KeyValue[]>;
  /**
   * Applies every mutation atomically under one new revision if and only if
   * every condition holds; otherwise writes nothing and throws a LucienError
   * CONDITION_FAILED whose details.key names the first failing key. Returns
   * once the commit is durable against a crash of this process.
   */
  commit(mutations: readonly Mutation[], conditions?: readonly Condition[]): Promise<CommitResult>;

  /** Oldest revision whose changes are still retained (Watch resumes from here). */
  oldestRetainedRevision(): Promise<number>;
  /**
   * Changes with revision > after, ascending. Whole commits only: it stops at
   * the first commit boundary once it holds `limit` changes (so one large
   * commit may exceed `limit`), and `after` = the last revision returned
   * resumes exactly. Throws LucienError COMPACTED when revision after + 1 is
   * older than oldestRetainedRevision().
   */
  changesSince(after: number, limit: number): Promise<Change[]>;
  /**
   * Calls `listener` after each commit with its changes, in revision order;
   * returns the unsubscribe. A backend whose stream can lose commits (etcd,
   * when its watch is cancelled) calls `onLoss()` as soon as it knows, then
   * `onLoss(after)` once every commit after revision `after` is delivered
   * again. Subscribers that must see every commit (the engine hosts' read
   * caches) pass it; embedded backends never lose one and never call it.
   */
  subscribe(listener: (changes: readonly Change[]) => void, onLoss?: (resumesAfter?: number) => void): () => void;
}
