/**
 * One Watch stream's life: catch up from the backend's history (pulled a page
 * at a time, only as fast as the client reads), then go live in the hub's
 * index and send what the hub pushes, in revision order, with no gaps or
 * duplicates. Memory is bounded in bytes: at most `windowBytes` handed to the
 * transport and not yet flushed, and at most `bufferBytes` in all; a live
 * stream over its budget ends with OUT_OF_RANGE naming the revision to resume
 * from, and drops everything it held. This file never touches gRPC statuses
 * (it throws LucienErrors) and never writes to the store.
 */
import { LucienError } from '../errors';
import type { WatchEvent } from '../generated/lucien/v1/WatchEvent';
import type { BucketChange, BucketSpace } from '../storage/buckets';
import type { HubSubscriber, WatchHub } from './watch-hub';

/** The transport, as a stream needs it (a grpc-js ServerWritableStream fits). */
export interface WatchSink {
  readonly cancelled: boolean;
  /** `flushed` runs once the event has left the transport's buffers. */
  write(event: WatchEvent, flushed: () => void): unknown;
  on(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

export interface WatchLimits {
  /** Byte budget of one stream: unflushed plus queued events. */
  readonly bufferBytes: number;
  /** Changes read from history per page while catching up. */
  readonly pageChanges: number;
}

export interface WatchTarget {
  /** undefined: every bucket. */
  readonly bucket: string | undefined;
  readonly prefix: string;
  /** 0: from now on. */
  readonly startRevision: number;
}

/** Approximate bytes an event holds (strings are counted in UTF-16 units, plus fixed overhead). */
function eventBytes(event: WatchEvent): number {
  return 64 + (event.bucket?.length ?? 0) + (event.key?.length ?? 0) + (event.value?.length ?? 0);
}

interface Queued {
  readonly event: WatchEvent;
  readonly bytes: number;
  readonly revision: number;
}

export class WatchStream implements HubSubscriber {
  readonly bucket: string | undefined;
  readonly prefix: string;
  private readonly windowBytes: number;
  /** Every commit up to and including this revision has been handed to the transport. */
  private after = 0;
  private unflushed = 0;
  private queued = 0;
  private readonly queue: Queued[] = [];
  private done = false;
  private overflow: LucienError | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly hub: WatchHub,
    private readonly space: Pick<BucketSpace, 'changesSinceAll' | 'oldestRetainedRevision'>,
    private readonly sink: WatchSink,
    private readonly target: WatchTarget,
    private readonly limits: WatchLimits,
  ) {
    this.bucket = target.bucket;
    this.prefix = target.prefix;
    this.windowBytes = Math.max(1, Math.floor(limits.bufferBytes / 2));
  }

  /** Runs until the client cancels (resolves) or the stream must end with an error (rejects). */
  async run(): Promise<void> {
    const untrack = this.hub.track();
    let leave: (() => void) | undefined;
    const onCancel = (): void => this.signal();
    this.sink.on('cancelled', onCancel);
    try {
      if (this.target.startRevision === 0) {
        this.after = this.hub.latest;
      } else {
        this.after = this.target.startRevision - 1;
        await this.catchUp();
      }
      if (this.sink.cancelled) return;
      // Synchronous with catchUp's last check of hub.latest: no commit can fall between.
      leave = this.hub.add(this);
      await this.pumpLive();
    } finally {
      this.done = true;
      leave?.();
      untrack();
      this.queue.length = 0;
      this.queued = 0;
      this.sink.off('cancelled', onCancel);
    }
  }

  /** From the hub, during dispatch: queue one matching change, or end the stream if over budget. */
  deliver(change: BucketChange): void {
    if (this.done || this.overflow !== undefined || change.revision <= this.after) return;
    const event = toEvent(change);
    const bytes = eventBytes(event);
    if (this.unflushed + this.queued + bytes > this.limits.bufferBytes) {
      const resume = this.queue[0]?.revision ?? change.revision;
      this.overflow = new LucienError(
        'WATCH_BEHIND',
        `this watcher fell behind: its unread events passed the buffer of ${this.limits.bufferBytes} bytes (LUCIEN_WATCH_BUFFER_BYTES); ` +
          `resume with start_revision ${resume}`,
        { revision: resume },
      );
      this.queue.length = 0;
      this.queued = 0;
      this.signal();
      return;
    }
    this.queue.push({ event, bytes, revision: change.revision });
    this.queued += bytes;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private hand(event: WatchEvent, bytes: number): void {
    this.unflushed += bytes;
    this.sink.write(event, () => {
      this.unflushed -= bytes;
      if (this.unflushed < this.windowBytes) this.signal();
    });
  }

  private async pumpLive(): Promise<void> {
    while (!this.sink.cancelled) {
      if (this.overflow !== undefined) throw this.overflow;
      while (this.unflushed < this.windowBytes) {
        const next = this.queue.shift();
        if (next === undefined) break;
        this.queued -= next.bytes;
        this.hand(next.event, next.bytes);
      }
      await this.sleep();
    }
  }

  /** Reads history from `after` until nothing newer than the hub's latest commit remains. */
  private async catchUp(): Promise<void> {
    const oldest = await this.space.oldestRetainedRevision();
    if (this.after + 1 < oldest) {
      throw new LucienError(
        'COMPACTED',
        `start_revision ${this.after + 1} is older than the retained history, which begins at revision ${oldest}`,
        { revision: oldest },
      );
    }
    /** Changes of commit after + 1 already handed (a page cut short by backpressure). */
    let skip = 0;
    while (!this.sink.cancelled) {
      const page = await this.readPage();
      if (page.length === 0) {
        if (this.hub.latest <= this.after) return;
        // The hub saw a commit the history does not show yet (a remote backend's lag): wait a moment.
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      let previous: number | undefined;
      let inCommit = 0;
      let stalled = false;
      for (const change of page) {
        if (previous !== undefined && change.revision !== previous) {
          this.after = previous;
          inCommit = 0;
          skip = 0;
        }
        previous = change.revision;
        inCommit++;
        if (inCommit <= skip) continue;
        if (this.unflushed >= this.windowBytes) {
          // Drop the rest of the page rather than hold it for a slow reader; re-read from here.
          skip = inCommit - 1;
          stalled = true;
          break;
        }
        const event = this.matching(change);
        if (event !== undefined) this.hand(event, eventBytes(event));
        if (this.sink.cancelled) return;
      }
      if (stalled) {
        while (this.unflushed >= this.windowBytes && !this.sink.cancelled) await this.sleep();
        continue;
      }
      this.after = previous ?? this.after;
      skip = 0;
    }
  }

  private async readPage(): Promise<BucketChange[]> {
    try {
      return await this.space.changesSinceAll(this.after, this.limits.pageChanges);
    } catch (err) {
      if ((err as LucienError).code === 'COMPACTED') {
        throw new LucienError(
          'COMPACTED',
          `this watcher fell behind the retained history; resume with start_revision ${this.after + 1} after re-reading the bucket`,
          {
            revision: this.after + 1,
          },
        );
      }
      throw err;
    }
  }

  /** The event for a change if this stream wants it. */
  private matching(change: BucketChange): WatchEvent | undefined {
    if (this.bucket !== undefined && change.bucket !== this.bucket) return undefined;
    if (!change.key.startsWith(this.prefix)) return undefined;
    return toEvent(change);
  }
}

function toEvent(change: BucketChange): WatchEvent {
  return {
    type: change.type === 'put' ? 'PUT' : 'DELETE',
    bucket: change.bucket,
    key: change.key,
    value: change.value,
    revision: change.revision,
  };
}
