/**
 * BucketView: one bucket of a BucketSpace as a Backend of its own, with the
 * bucket's keys as its keys and the store's revisions as its revisions.
 * Every read, commit and history call is one call into the space
 * (buckets.ts), the same code the store, the script transaction and Watch
 * use, so the storage conformance suite run through a view tests their path.
 * What a view adds is only its own lifecycle (closing it stops this view,
 * never the backend behind the space) and whole-commit paging of a history
 * that other buckets share. It never returns, accepts or leaks a key of
 * another bucket.
 */
import { LucienError } from '../errors';
import type {
  Backend,
  Capabilities,
  Change,
  CommitResult,
  Condition,
  KeyValue,
  LifecycleStatus,
  Mutation,
  Snapshot,
  ScanOptions,
} from './backend';
import type { BucketSpace } from './buckets';
import type { Listener } from './listeners';

export class BucketView implements Backend {
  private own: 'open' | 'closing' | 'closed' = 'open';
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly unsubscribes = new Set<() => void>();

  constructor(
    private readonly space: BucketSpace,
    readonly bucket: string,
  ) {}

  get supports(): Capabilities {
    return this.space.supports;
  }

  /** A view starts open; its status is the backend's until the view itself is closed. */
  get status(): LifecycleStatus {
    return this.own === 'open' ? this.space.status : this.own;
  }

  async open(): Promise<void> {
    if (this.own === 'closing') await this.close();
    this.own = 'open';
  }

  async close(): Promise<void> {
    if (this.own !== 'open') {
      await Promise.allSettled([...this.inflight]);
      return;
    }
    this.own = 'closing';
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes.clear();
    await Promise.allSettled([...this.inflight]);
    this.own = 'closed';
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.space.currentRevision();
  }

  async oldestRetainedRevision(): Promise<number> {
    this.assertOpen();
    return this.space.oldestRetainedRevision();
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    return this.space.get(this.bucket, key);
  }

  async snapshot(): Promise<Snapshot> {
    this.assertOpen();
    const inner = await this.space.snapshot();
    const bucket = this.bucket;
    return {
      revision: inner.revision,
      get: async (key) => (await inner.getMany(bucket, [key]))[0],
      getMany: (keys) => inner.getMany(bucket, keys),
      getManySync: (keys) => inner.getManySync(bucket, keys),
      scan: (prefix, options) => inner.scan(bucket, prefix, options),
      release: () => inner.release(),
    };
  }

  async scan(prefix: string, options: ScanOptions): Promise<readonly KeyValue[]> {
    this.assertOpen();
    return this.space.scan(this.bucket, prefix, options);
  }

  commit(mutations: readonly Mutation[], conditions: readonly Condition[] = []): Promise<CommitResult> {
    if (this.own !== 'open') return Promise.reject(closedError());
    const bucket = this.bucket;
    const run = this.space.commit(
      mutations.map((m) => ({ ...m, bucket })),
      conditions.map((c) => ({ ...c, bucket })),
    );
    this.inflight.add(run);
    const done = (): void => {
      this.inflight.delete(run);
    };
    run.then(done, done);
    return run;
  }

  /** Whole commits only, like a backend's, so `after` = last revision seen resumes exactly. */
  async changesSince(after: number, limit: number): Promise<Change[]> {
    this.assertOpen();
    const out: Change[] = [];
    // Other buckets' commits are filtered out, so read the shared history in larger pages.
    const page = Math.max(limit, 256);
    let cursor = after;
    while (out.length < limit) {
      const { changes, through } = await this.space.changesSince(this.bucket, '', cursor, page);
      if (through === cursor) break;
      for (const change of changes) {
        if (out.length >= limit && change.revision !== out[out.length - 1]?.revision) return out;
        out.push(change);
      }
      cursor = through;
    }
    return out;
  }

  subscribe(listener: Listener): () => void {
    const unsubscribe = this.space.subscribe(this.bucket, listener);
    this.unsubscribes.add(unsubscribe);
    return () => {
      this.unsubscribes.delete(unsubscribe);
      unsubscribe();
    };
  }

  private assertOpen(): void {
    if (this.own !== 'open') throw closedError();
  }
}

function closedError(): LucienError {
  return new LucienError('UNAVAILABLE', 'bucket view is closed');
}
