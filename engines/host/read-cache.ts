/**
 * HostReadCache: the engine host's read cache, kept by the trusted runtime in
 * the host process's own JavaScript memory (never in a script's realm or in
 * Pyodide's heap: no script can name it). It answers a run's point reads and
 * repeated lists without a round trip to the server.
 *
 * The one invariant: the cache is "at" one revision, and every entry holds
 * what the store held at that revision. Only two things change it:
 *   - advance(R, changed): the server, on the run dispatched at R, names every
 *     raw key changed since the revision the host last saw (or says reset);
 *     those entries go, and the cache is at R. R never goes backwards: a
 *     revision below the current one empties the cache.
 *   - fill(...) / fillList(...): a miss the server answered from the run's
 *     snapshot, which is at the cache's revision.
 * Between dispatches nothing else touches it, so a run at R reads exactly
 * what its snapshot at R holds.
 *
 * Keys are raw keys: bucket + '/' + key (bucket names never contain '/').
 * Values stay JSON text, exactly as the server sent them, never parsed. A
 * list result is kept whole under its arguments and goes when any key under
 * its prefix changes. Bounded by bytes; the oldest entries go first.
 * Must never import anything from src/, and must never be handed to an engine.
 */

/** What a cached point read holds. */
export interface CachedValue {
  /** JSON text of the object, or 'null' for an absent key. */
  readonly value: string;
  /** The key's mod revision at the cache's revision; 0 when absent. */
  readonly modRevision: number;
}

interface ListEntry {
  /** Raw prefix the list covers: a change to any key under it drops the entry. */
  readonly prefix: string;
  /** The list's answer as the server sent it (JSON text of [key, value] pairs). */
  readonly text: string;
}

/** Per-entry bookkeeping of a Map entry in V8, roughly. */
const ENTRY_OVERHEAD_BYTES = 80;

export class HostReadCache {
  private readonly entries = new Map<string, CachedValue>();
  private readonly lists = new Map<string, ListEntry>();
  private used = 0;
  private at: number | undefined;

  constructor(private readonly maxBytes: number) {}

  /** The revision the cache answers for; undefined until the first advance (or after clear). */
  get revision(): number | undefined {
    return this.at;
  }

  /** Bytes held (keys, values and overhead, counted as UTF-16). */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size + this.lists.size;
  }

  /**
   * Moves the cache to `revision`: drops each raw key in `changed` (and every
   * list whose prefix covers one), or everything when `changed` is 'all'.
   */
  advance(revision: number, changed: readonly string[] | 'all'): void {
    if (changed === 'all' || this.at === undefined || revision < this.at || !Number.isSafeInteger(revision)) {
      this.clear();
    } else {
      for (const key of changed) this.dropKey(key);
      if (this.lists.size > 0 && changed.length > 0) this.dropListsCovering(changed);
    }
    this.at = Number.isSafeInteger(revision) ? revision : undefined;
  }

  get(raw: string): CachedValue | undefined {
    return this.at === undefined ? undefined : this.entries.get(raw);
  }

  /** Remembers a miss the server answered at the cache's revision. */
  fill(raw: string, value: string, modRevision: number): void {
    if (this.at === undefined) return;
    const cost = entryCost(raw, value);
    if (cost > this.maxBytes) return;
    this.dropKey(raw);
    this.entries.set(raw, { value, modRevision });
    this.used += cost;
    this.evict();
  }

  getList(listKey: string): string | undefined {
    return this.at === undefined ? undefined : this.lists.get(listKey)?.text;
  }

  /** Remembers a list the server answered at the cache's revision, with no write of the run under `prefix`. */
  fillList(listKey: string, prefix: string, text: string): void {
    if (this.at === undefined) return;
    const cost = entryCost(listKey, text) + 2 * prefix.length;
    if (cost > this.maxBytes) return;
    this.dropList(listKey);
    this.lists.set(listKey, { prefix, text });
    this.used += cost;
    this.evict();
  }

  clear(): void {
    this.entries.clear();
    this.lists.clear();
    this.used = 0;
    this.at = undefined;
  }

  private dropKey(raw: string): void {
    const old = this.entries.get(raw);
    if (old === undefined) return;
    this.entries.delete(raw);
    this.used -= entryCost(raw, old.value);
  }

  private dropList(listKey: string): void {
    const old = this.lists.get(listKey);
    if (old === undefined) return;
    this.lists.delete(listKey);
    this.used -= entryCost(listKey, old.text) + 2 * old.prefix.length;
  }

  private dropListsCovering(changed: readonly string[]): void {
    for (const [listKey, list] of this.lists) {
      if (changed.some((key) => key.startsWith(list.prefix))) this.dropList(listKey);
    }
  }

  /** Oldest first, point entries before lists (a list is cheap to lose: one call refills it). */
  private evict(): void {
    for (const listKey of this.lists.keys()) {
      if (this.used <= this.maxBytes) return;
      this.dropList(listKey);
    }
    for (const raw of this.entries.keys()) {
      if (this.used <= this.maxBytes) return;
      this.dropKey(raw);
    }
  }
}

function entryCost(key: string, value: string): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (key.length + value.length);
}
