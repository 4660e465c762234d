/**
 * ReadCache: the latest version of recently read or written keys, in memory,
 * in front of LevelDB (whose reads through a snapshot cost ~10 µs each in
 * abstract-level; a hit here costs well under 1 µs). Values stay the raw
 * stored record text, never parsed.
 *
 * The one invariant: an entry for a key holds its latest committed version,
 * and that version was already current at revision `validFrom`. So the entry
 * answers a read at any snapshot revision >= validFrom, and a latest read.
 *   - A commit calls begin(keys) before its batch goes to LevelDB: those
 *     entries are dropped and the keys are marked in flight, so no read can
 *     fill them while LevelDB may or may not have applied the batch.
 *   - Once the batch is durable, end(...) writes the new versions through
 *     (validFrom = the revision of the commit that wrote each) and clears the
 *     marks; fail() only clears them.
 *   - A read that missed may fill only when it read the latest state: at the
 *     backend's current revision, for a key not in flight. A present value is
 *     valid from its mod revision; an absent key from the revision it was
 *     read at (when it was deleted is not known).
 * Bounded by bytes; the oldest entries go first (a hit does not reorder, which
 * costs more than the occasional refill of an evicted hot key).
 */

/** A record as LevelDB stores it, or ABSENT for a key that does not exist. */
export const ABSENT = null;
export type CachedRecord = string | typeof ABSENT;

interface Entry {
  readonly record: CachedRecord;
  readonly validFrom: number;
}

const ENTRY_OVERHEAD_BYTES = 96;

export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The record as of `revision` (undefined: not cached for that revision). */
  lookup(key: string, revision: number): CachedRecord | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.validFrom > revision) return undefined;
    return entry.record;
  }

  /** The latest committed record, if cached. */
  latest(key: string): CachedRecord | undefined {
    return this.lookup(key, Number.POSITIVE_INFINITY);
  }

  /** Whether a commit that touches `key` is between begin() and end()/fail(). */
  isInFlight(key: string): boolean {
    return this.inFlight.has(key);
  }

  /** A read of the latest state missed; remember what it found. */
  fill(key: string, record: CachedRecord, validFrom: number): void {
    if (this.inFlight.has(key) || this.maxBytes <= 0) return;
    this.set(key, { record, validFrom });
  }

  begin(keys: Iterable<string>): void {
    for (const key of keys) {
      this.inFlight.add(key);
      this.drop(key);
    }
  }

  /** The batch is durable: each key's new record, current from the revision that wrote it. */
  end(written: Iterable<readonly [key: string, entry: readonly [record: CachedRecord, revision: number]]>): void {
    for (const [key, [record, revision]] of written) {
      this.inFlight.delete(key);
      if (this.maxBytes > 0) this.set(key, { record, validFrom: revision });
    }
    this.inFlight.clear();
  }

  fail(): void {
    this.inFlight.clear();
  }

  clear(): void {
    this.entries.clear();
    this.inFlight.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  private set(key: string, entry: Entry): void {
    this.drop(key);
    this.entries.set(key, entry);
    this.bytes += cost(key, entry.record);
    // Checked first: an iteration that breaks at once still allocates its iterator and first entry, on every write.
    if (this.bytes <= this.maxBytes) return;
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= cost(oldKey, old.record);
    }
  }

  private drop(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.bytes -= cost(key, old.record);
  }
}

function cost(key: string, record: CachedRecord): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (key.length + (record?.length ?? 0));
}
