/**
 * Group commit: callers queue commits; one writer takes everything queued
 * when it is free and applies it as one group (one LevelDB batch), so many
 * concurrent commits share one write instead of waiting in line for one
 * each. Order is kept: a group is taken in arrival order, and each commit in
 * it is settled by the writer, which alone decides success or failure.
 * With `gather`, an idle writer starts at the end of the current turn of the
 * event loop rather than at once: one socket read often carries several
 * requests, and they then share one write instead of the first going alone.
 */

/** Resolves once the event loop's current turn (its I/O callbacks) is done. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Queued<I, R> {
  readonly input: I;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/** A queued commit that remembers whether it was settled, so a failed write fails only the rest. */
class Pending<I, R> implements Queued<I, R> {
  settled = false;

  constructor(
    readonly input: I,
    private readonly onResult: (result: R) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  resolve(result: R): void {
    this.settled = true;
    this.onResult(result);
  }

  reject(err: unknown): void {
    this.settled = true;
    this.onError(err);
  }
}

export class GroupCommit<I, R> {
  private readonly queue: Pending<I, R>[] = [];
  private writing: Promise<void> | undefined;

  /**
   * `write` must settle every commit of the group it is given (and may throw
   * only for the group as a whole: then every commit not yet settled fails with it).
   */
  constructor(
    private readonly write: (group: readonly Queued<I, R>[]) => Promise<void>,
    private readonly maxGroup: number,
    private readonly gather = false,
  ) {}

  submit(input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push(new Pending(input, resolve, reject));
      this.writing ??= this.gather ? nextTurn().then(() => this.drain()) : this.drain();
    });
  }

  /** Resolves once everything queued so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxGroup);
        try {
          await this.write(group);
        } catch (err) {
          for (const q of group) if (!q.settled) q.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
