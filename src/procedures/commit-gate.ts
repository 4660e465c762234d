/**
 * A fair (FIFO) reader-writer lock over script commits in this server.
 * Optimistic runs take it shared only around their commit; a run that has
 * already lost several races takes it exclusively from its first read to its
 * commit, so nothing committed by another script can invalidate it, and hot
 * keys make progress instead of retrying forever. Plain KV writes never wait
 * on it, so a script can never pause them.
 */
type Waiter = { readonly exclusive: boolean; readonly wake: () => void };

export class CommitGate {
  private shared = 0;
  private exclusiveHeld = false;
  private readonly queue: Waiter[] = [];

  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.shared--;
      this.pump();
    }
  }

  /** Resolves with the release function once held exclusively. */
  async exclusive(): Promise<() => void> {
    await this.acquire(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.exclusiveHeld = false;
      this.pump();
    };
  }

  private acquire(exclusive: boolean): Promise<void> {
    if (this.queue.length === 0 && this.canEnter(exclusive)) {
      this.enter(exclusive);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push({ exclusive, wake: resolve }));
  }

  private canEnter(exclusive: boolean): boolean {
    return !this.exclusiveHeld && (!exclusive || this.shared === 0);
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.exclusiveHeld = true;
    else this.shared++;
  }

  private pump(): void {
    for (;;) {
      const next = this.queue[0];
      if (next === undefined || !this.canEnter(next.exclusive)) return;
      this.queue.shift();
      this.enter(next.exclusive);
      next.wake();
    }
  }
}
