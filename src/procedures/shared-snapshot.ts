/**
 * SharedSnapshots: the runs' snapshots of the store, one shared by every run
 * that takes it before the next commit lands. A run takes its snapshot when
 * it is dispatched, even if it reads nothing (an engine host's read cache is
 * brought to its revision), so opening and closing one per run was a fixed
 * cost of every run; between commits they would all be the same anyway.
 *
 * Each run holds a lease; a snapshot goes once a commit has made it old and
 * its last lease is returned (the current one stays open for the next run).
 * Linearizable: a commit's listeners run before it is acknowledged, and each
 * commit retires the current snapshot, so a run that starts after a commit
 * was acknowledged never gets a snapshot from before it. That holds only
 * where this server's commit stream sees every commit first (the embedded
 * backends); on a remote backend (etcd) other servers commit unseen, and
 * every run opens its own. Must never hand out a snapshot opened before a
 * commit it has been told of, nor release one a lease still holds.
 */
import type { BucketSnapshot, BucketSpace, FirstRead } from '../storage/buckets';

interface Shared {
  readonly snapshot: Promise<BucketSnapshot>;
  /** Leases not yet returned. */
  leases: number;
  /** A commit landed since it was opened: no new leases; released with its last one. */
  old: boolean;
}

export class SharedSnapshots {
  private current: Shared | undefined;
  private sharing: boolean;
  private readonly unsubscribe: () => void;

  constructor(private readonly space: BucketSpace) {
    this.sharing = !space.supports.remote;
    this.unsubscribe = this.sharing ? space.onCommit(() => this.retire()) : () => undefined;
  }

  /**
   * A snapshot of the store as of now (every commit acknowledged so far); release() returns the lease.
   * `firstRead` reaches the backend only for a snapshot of the run's own (a shared one serves many runs).
   */
  async lease(firstRead?: FirstRead): Promise<BucketSnapshot> {
    if (!this.sharing) return this.space.snapshot(firstRead);
    let shared = this.current;
    if (shared === undefined) {
      const opened: Shared = { snapshot: this.space.snapshot(), leases: 0, old: false };
      this.current = shared = opened;
      // A failed open is not kept: the next run tries again.
      opened.snapshot.catch(() => {
        if (this.current === opened) this.current = undefined;
      });
    }
    shared.leases++;
    const snapshot = await shared.snapshot;
    let returned = false;
    return {
      revision: snapshot.revision,
      getMany: (bucket, keys) => snapshot.getMany(bucket, keys),
      getManySync: (bucket, keys) => snapshot.getManySync(bucket, keys),
      scan: (bucket, prefix, options) => snapshot.scan(bucket, prefix, options),
      listBuckets: () => snapshot.listBuckets(),
      release: async () => {
        if (returned) return;
        returned = true;
        shared.leases--;
        if (shared.old && shared.leases === 0) await snapshot.release();
      },
    };
  }

  /** Stops sharing; the current snapshot goes once its leases are returned. */
  close(): void {
    this.sharing = false;
    this.unsubscribe();
    this.retire();
  }

  /** A commit landed: the current snapshot is old (released now if no run holds it). */
  private retire(): void {
    const shared = this.current;
    if (shared === undefined) return;
    this.current = undefined;
    shared.old = true;
    if (shared.leases === 0) void shared.snapshot.then((s) => s.release()).catch(() => undefined);
  }
}
