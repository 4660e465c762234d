/**
 * Which compiled scripts the server has told one engine host to keep: an LRU
 * of `scriptCache` keys, least recently used first, and the keys to drop so
 * one more fits. The server decides; the host forgets what it is told to drop.
 * Must never talk to the host: host-process.ts sends what this decides.
 */
export class HeldScripts {
  /** Keys of the compiled scripts the host holds, least recently used first. */
  private readonly held = new Map<string, true>();

  constructor(private readonly scriptCache: number) {}

  get size(): number {
    return this.held.size;
  }

  has(key: string): boolean {
    return this.held.has(key);
  }

  /** The host no longer holds `key` (it said it lacks it). */
  forget(key: string): void {
    this.held.delete(key);
  }

  /** Marks `key` most recently used. */
  hold(key: string): void {
    this.held.delete(key);
    this.held.set(key, true);
  }

  /** The least recently used keys to drop so one more fits. */
  makeRoom(): string[] | undefined {
    const over = this.held.size + 1 - this.scriptCache;
    if (over <= 0) return undefined;
    const drop: string[] = [];
    for (const key of this.held.keys()) {
      if (drop.length >= over) break;
      drop.push(key);
    }
    for (const key of drop) this.held.delete(key);
    return drop;
  }
}
