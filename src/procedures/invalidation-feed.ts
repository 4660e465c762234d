/**
 * InvalidationFeed: what each engine host's read cache must forget before a
 * run. It follows the store's commit stream (BucketSpace.subscribeKeys: this
 * server's commits and, on etcd, every other server's), keeps the keys
 * each recent revision changed (as cache names), and remembers per host the revision its cache
 * was last brought to. Before a run at snapshot revision R goes to a host,
 * sync() answers the keys changed in (that revision, R], carried on the run
 * message itself, or "reset" (drop everything) when it cannot name them:
 * the host is new, its revision fell out of the log, too many keys changed,
 * or the stream has not delivered R in time.
 *
 * The log is complete for revisions in (floor, known]: the stream delivers
 * whole commits in revision order, and a catch-up read of the backend's
 * history (changesSince) fills a lag. Only revisions above `known` are ever
 * appended, so the two sources never interleave out of order.
 * Must never write to the backend, and must never answer a host a partial
 * list of changes: partial is stale.
 */
import { type CacheSync, cacheName } from '../../engines/protocol';
import { isLucienError } from '../errors';
import type { KeyRef } from '../storage/buckets';

/** Where the feed learns of commits: the store's bucket space (storage/buckets.ts) fits it. */
export interface KeyChangeSource {
  currentRevision(): Promise<number>;
  subscribeKeys(
    listener: (revision: number, keys: readonly KeyRef[]) => void,
    onLoss?: (resumesAfter?: number) => void,
  ): () => void;
  keysChangedSince(after: number, limit: number): Promise<{ revision: number; keys: readonly KeyRef[] }[]>;
}

export interface InvalidationFeedOptions {
  /** Changed keys the log keeps (older revisions go first). */
  readonly logKeys: number;
  /** More changed keys than this for one host: reset it instead of listing them. */
  readonly maxChangedPerSync: number;
  /** How long a run waits for the stream to deliver its snapshot's revision before catching up from history. */
  readonly waitMs: number;
}

export const DEFAULT_FEED_OPTIONS: InvalidationFeedOptions = { logKeys: 65_536, maxChangedPerSync: 4_096, waitMs: 50 };

interface Logged {
  readonly revision: number;
  readonly keys: readonly string[];
}

type Waiter = { readonly revision: number; readonly wake: () => void };

/** Whole commits per catch-up read of history. */
const CATCH_UP_CHANGES = 10_000;

export class InvalidationFeed {
  private readonly log: Logged[] = [];
  /** Index of the oldest live entry in `log` (entries before it are trimmed lazily). */
  private head = 0;
  private logged = 0;
  private floor: number;
  private known: number;
  private readonly hosts = new WeakMap<object, number>();
  private waiters: Waiter[] = [];
  private constructor(
    private readonly source: KeyChangeSource,
    private readonly options: InvalidationFeedOptions,
    revision: number,
    private readonly unsubscribe: () => void,
  ) {
    this.floor = revision;
    this.known = revision;
  }

  /** Follows `source` from its current revision on. */
  static async start(
    source: KeyChangeSource,
    options: InvalidationFeedOptions = DEFAULT_FEED_OPTIONS,
  ): Promise<InvalidationFeed> {
    // Subscribed before the revision is read: a commit in between is delivered and, at or below it, ignored.
    let feed: InvalidationFeed | undefined;
    const early: [number, readonly KeyRef[]][] = [];
    let lostEarly = false;
    const unsubscribe = source.subscribeKeys(
      (revision, keys) => (feed === undefined ? early.push([revision, keys]) : feed.onCommit(revision, keys)),
      (after) => (feed === undefined ? (lostEarly = true) : feed.onLoss(after)),
    );
    try {
      feed = new InvalidationFeed(source, options, await source.currentRevision(), unsubscribe);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    for (const [revision, keys] of early) feed.onCommit(revision, keys);
    if (lostEarly) feed.onLoss();
    return feed;
  }

  /** Stops following the commit stream; later syncs reset every host. */
  close(): void {
    this.unsubscribe();
    this.known = this.floor = Number.POSITIVE_INFINITY;
    for (const waiter of this.waiters.splice(0)) waiter.wake();
  }

  /** The revision through which the log is complete. */
  get revision(): number {
    return this.known;
  }

  /**
   * What `host` must forget before a run at snapshot revision `revision`; from
   * now on the host counts as being at `revision`. Call it only right before
   * the run message goes out (nothing may await in between).
   */
  async sync(host: object, revision: number, limits: { maxReadBatch: number; maxBytes: number }): Promise<CacheSync> {
    const caughtUp = await this.reach(revision);
    const prev = this.hosts.get(host);
    this.hosts.set(host, revision);
    const base = { revision, maxReadBatch: limits.maxReadBatch, maxBytes: limits.maxBytes };
    // The same revision again: nothing can have changed in between, whatever the log holds.
    if (prev === revision) return { ...base, changed: [], reset: false };
    if (!caughtUp || prev === undefined || prev > revision || prev < this.floor)
      return { ...base, changed: [], reset: true };
    const changed = this.changedBetween(prev, revision);
    return changed === undefined ? { ...base, changed: [], reset: true } : { ...base, changed, reset: false };
  }

  /** Called by the commit stream: one commit's revision and the keys it changed, in revision order. */
  onCommit(revision: number, keys: readonly KeyRef[]): void {
    if (revision <= this.known) return;
    this.append(
      revision,
      keys.map((k) => cacheName(k.bucket, k.key)),
    );
  }

  /**
   * The stream lost commits: until it says where it resumes, every host is
   * reset; then the log starts afresh after that revision.
   */
  onLoss(resumesAfter?: number): void {
    this.log.length = 0;
    this.head = 0;
    this.logged = 0;
    if (resumesAfter === undefined) {
      this.known = this.floor = Number.POSITIVE_INFINITY;
    } else {
      this.known = this.floor = resumesAfter;
    }
    for (const waiter of this.waiters.splice(0)) waiter.wake();
  }

  /** Distinct keys changed in (after, upTo]; undefined when more than the per-sync limit. */
  private changedBetween(after: number, upTo: number): string[] | undefined {
    const keys = new Set<string>();
    for (let i = this.firstAfter(after); i < this.log.length; i++) {
      const entry = this.log[i] as Logged;
      if (entry.revision > upTo) break;
      for (const key of entry.keys) keys.add(key);
      if (keys.size > this.options.maxChangedPerSync) return undefined;
    }
    return [...keys];
  }

  /** Index of the first live entry with a revision above `after` (binary search). */
  private firstAfter(after: number): number {
    let lo = this.head;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as Logged).revision <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** True once the log is complete through `revision`: waits for the stream, then reads history. */
  private async reach(revision: number): Promise<boolean> {
    if (this.known >= revision) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      }, this.options.waitMs);
      const waiter: Waiter = {
        revision,
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
    if (this.known >= revision) return true;
    try {
      for (const commit of await this.source.keysChangedSince(this.known, CATCH_UP_CHANGES))
        this.onCommit(commit.revision, commit.keys);
    } catch (err) {
      if (!isLucienError(err)) throw err;
      // COMPACTED or unavailable: the caller resets the host instead.
    }
    return this.known >= revision;
  }

  private append(revision: number, keys: readonly string[]): void {
    this.log.push({ revision, keys });
    this.logged += keys.length;
    this.known = revision;
    while (this.logged > this.options.logKeys && this.head < this.log.length - 1) {
      const oldest = this.log[this.head++] as Logged;
      this.logged -= oldest.keys.length;
      this.floor = oldest.revision;
    }
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.revision <= revision);
      this.waiters = this.waiters.filter((w) => w.revision > revision);
      for (const waiter of ready) waiter.wake();
    }
  }
}
