/**
 * The Watch fan-out: one subscription to the backend's commits for the whole
 * server, and an index of live Watch streams by bucket, then by key prefix.
 * Each commit is read once and each change is handed only to the streams whose
 * bucket and prefix match it, so a stream that matches nothing costs nothing
 * per commit (a map lookup per change and distinct prefix length of the
 * changed bucket, never a loop over streams). Streams still catching up from
 * history are not in the index; they read the backend themselves
 * (watch-stream.ts). This file must never buffer events or read history.
 */
import type { BucketChange, BucketSpace } from '../storage/buckets';

/** A live stream as the hub sees it: what it wants and where matching changes go. */
export interface HubSubscriber {
  /** undefined: every bucket (the admin's whole-store Watch). */
  readonly bucket: string | undefined;
  /** Key prefix within the bucket(s); '' matches every key. */
  readonly prefix: string;
  /** One matching change; called synchronously, in revision order, during dispatch. */
  deliver(change: BucketChange): void;
}

/** The subscribers of one bucket (or of every bucket), grouped by prefix. */
class PrefixIndex {
  private readonly byPrefix = new Map<string, Set<HubSubscriber>>();
  /** Distinct prefix lengths present, so a key is probed once per length, not per subscriber. */
  private lengths: number[] = [];

  get empty(): boolean {
    return this.byPrefix.size === 0;
  }

  add(sub: HubSubscriber): void {
    let set = this.byPrefix.get(sub.prefix);
    if (set === undefined) {
      set = new Set();
      this.byPrefix.set(sub.prefix, set);
      this.refreshLengths();
    }
    set.add(sub);
  }

  remove(sub: HubSubscriber): void {
    const set = this.byPrefix.get(sub.prefix);
    if (set === undefined || !set.delete(sub)) return;
    if (set.size === 0) {
      this.byPrefix.delete(sub.prefix);
      this.refreshLengths();
    }
  }

  /** Calls `visit` for each subscriber whose prefix starts `key`. */
  match(key: string, visit: (sub: HubSubscriber) => void): void {
    for (const length of this.lengths) {
      if (length > key.length) break;
      const set = this.byPrefix.get(length === key.length ? key : key.slice(0, length));
      if (set !== undefined) for (const sub of set) visit(sub);
    }
  }

  private refreshLengths(): void {
    this.lengths = [...new Set([...this.byPrefix.keys()].map((p) => p.length))].sort((a, b) => a - b);
  }
}

export class WatchHub {
  private readonly buckets = new Map<string, PrefixIndex>();
  private readonly everywhere = new PrefixIndex();
  private live = 0;
  private streams = 0;
  private unsubscribe: (() => void) | undefined;
  /** Highest revision dispatched so far: a catching-up stream compares against it before going live. */
  private latestRevision = 0;

  constructor(private readonly space: Pick<BucketSpace, 'subscribeAll' | 'currentRevision'>) {}

  /**
   * Subscribes to the backend (once), then learns its current revision: later
   * commits are dispatched to the index, and `latest` never lags what a
   * client could have been told.
   */
  async start(): Promise<void> {
    this.unsubscribe ??= this.space.subscribeAll((changes) => this.dispatch(changes));
    const current = await this.space.currentRevision();
    this.latestRevision = Math.max(this.latestRevision, current);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  get latest(): number {
    return this.latestRevision;
  }

  /** Open Watch streams (live or catching up), for metrics. */
  get streamCount(): number {
    return this.streams;
  }

  /** Streams in the index right now (live, caught up). */
  get liveCount(): number {
    return this.live;
  }

  /** Counts a stream for streamCount; returns the matching release (safe to call twice). */
  track(): () => void {
    this.streams++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.streams--;
    };
  }

  /** Puts a caught-up stream in the index; returns its removal (safe to call twice). */
  add(sub: HubSubscriber): () => void {
    const index = sub.bucket === undefined ? this.everywhere : this.bucketIndex(sub.bucket);
    index.add(sub);
    this.live++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.live--;
      index.remove(sub);
      if (sub.bucket !== undefined && index.empty) this.buckets.delete(sub.bucket);
    };
  }

  private bucketIndex(bucket: string): PrefixIndex {
    let index = this.buckets.get(bucket);
    if (index === undefined) {
      index = new PrefixIndex();
      this.buckets.set(bucket, index);
    }
    return index;
  }

  private dispatch(changes: readonly BucketChange[]): void {
    const first = changes[0];
    if (first === undefined) return;
    this.latestRevision = Math.max(this.latestRevision, first.revision);
    if (this.live === 0) return;
    for (const change of changes) {
      const deliver = (sub: HubSubscriber): void => sub.deliver(change);
      this.buckets.get(change.bucket)?.match(change.key, deliver);
      if (!this.everywhere.empty) this.everywhere.match(change.key, deliver);
    }
  }
}
