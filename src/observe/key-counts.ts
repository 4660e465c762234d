/**
 * Keys per bucket, for lucien_store_keys and the admin page's first view.
 * No backend keeps a count, so this is the documented cheaper equivalent of
 * an exact gauge: a keys-only scan, cached for CACHE_MS, that stops counting
 * a bucket at MAX_COUNT keys (the figure is then a lower bound, flagged
 * `capped`). Reads only, from one snapshot per count, keys only, a page at a time.
 */
import type { BucketSpace } from '../storage/buckets';

export const MAX_COUNT = 100_000;
export const CACHE_MS = 30_000;
const PAGE = 1000;

export interface BucketCount {
  readonly bucket: string;
  readonly keys: number;
  /** True when the bucket holds at least MAX_COUNT keys and counting stopped there. */
  readonly capped: boolean;
}

export class KeyCounter {
  private cached: { at: number; counts: Promise<BucketCount[]> } | undefined;

  constructor(
    private readonly space: Pick<BucketSpace, 'snapshot'>,
    private readonly cacheMs = CACHE_MS,
    private readonly maxCount = MAX_COUNT,
  ) {}

  /** Every bucket (system ones included) with its count; at most one scan per cacheMs. */
  all(): Promise<BucketCount[]> {
    const now = Date.now();
    if (this.cached === undefined || now - this.cached.at >= this.cacheMs) {
      const counts = this.count();
      this.cached = { at: now, counts };
      counts.catch(() => {
        if (this.cached?.counts === counts) this.cached = undefined;
      });
    }
    return this.cached.counts;
  }

  /** Drops the cache (after a write from the admin page, so it shows at once). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async count(): Promise<BucketCount[]> {
    const snapshot = await this.space.snapshot();
    try {
      const out: BucketCount[] = [];
      for (const bucket of await snapshot.listBuckets()) {
        let keys = 0;
        let after: string | undefined;
        for (;;) {
          const want = Math.min(PAGE, this.maxCount - keys);
          const rows = await snapshot.scan(bucket, '', { after, limit: want, keysOnly: true });
          keys += rows.length;
          const last = rows[rows.length - 1];
          if (last === undefined || rows.length < want || keys >= this.maxCount) break;
          after = last.key;
        }
        out.push({ bucket, keys, capped: keys >= this.maxCount });
      }
      return out;
    } finally {
      await snapshot.release();
    }
  }
}
