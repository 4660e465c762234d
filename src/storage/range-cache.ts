/**
 * RangeCache: the results of recent scans of the latest state (what List
 * reads), in memory in front of LevelDB, so that a repeated List of an
 * unchanged range costs no threadpool trip, no string conversion and no
 * record decoding. Rows are kept as the scan returned them and never parsed.
 *
 * The one invariant: an entry holds exactly what the same scan of the latest
 * committed state returns now. It is kept the way read-cache.ts keeps keys:
 *   - A commit calls begin(keys) before its batch goes to LevelDB: every
 *     entry whose span holds one of those keys is dropped, and the batch is
 *     remembered until settle() (after its write succeeded or failed).
 *   - A scan that missed takes a ticket (startScan) before it reads and hands
 *     it back with its rows (finishScan). It fills only if no batch that was
 *     in flight when it started, or began since, wrote a key inside the span
 *     it read: then no write it may or may not have seen touches its result.
 * The span of a scan: from its first possible key (inclusive; a start key
 * itself counts, which is conservative) to the last row it returned when the
 * limit cut it short, else to the end of its prefix (exclusive). Entries are
 * indexed by the common prefix of their span's bounds, so a commit looks at
 * few entries per key. Bounded by bytes; the oldest entries go first. Only
 * scans of well-formed text are cached: a lone surrogate sorts differently
 * in LevelDB (stored as U+FFFD) than here. Must never parse values or read
 * LevelDB itself.
 */
import type { KeyValue, ScanOptions } from './backend';
import { compareBytewise } from './bytewise';
import { prefixEndText } from './leveldb-layout';

/** A scan as the backend receives it (raw keys). */
export interface RangeQuery {
  readonly id: string;
  readonly prefix: string;
  readonly options: ScanOptions;
}

interface Entry {
  readonly id: string;
  readonly rows: readonly KeyValue[];
  /** Every key the result depends on lies in [from, to] or [from, to) (to undefined: no upper bound). */
  readonly from: string;
  readonly to: string | undefined;
  readonly toInclusive: boolean;
  /** The common prefix of from and to: every key in the span starts with it. */
  readonly index: string;
  readonly bytes: number;
}

/** A batch begun while scans were reading, kept until they finish. */
interface Batch {
  readonly seq: number;
  /** The keys it writes (the map's values are not read). */
  readonly written: ReadonlyMap<string, unknown>;
}

/**
 * What an entry is counted at. A row lives in up to four forms while its
 * entry does (src/derived.ts): as read, renamed to its bucket's key, as a
 * message, and encoded. That is about three objects per row; the value's
 * text once as a string (two bytes a unit) and once encoded, the key in
 * every form.
 */
const ENTRY_OVERHEAD_BYTES = 400;
const ROW_OVERHEAD_BYTES = 250;
const rowBytes = (row: KeyValue): number => ROW_OVERHEAD_BYTES + 4 * row.key.length + 3 * row.value.length;
/** Batches remembered for scans in progress; a scan that outlives more does not fill. */
const MAX_BATCHES = 64;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The cacheable form of a scan, or undefined when it is not cached. */
export function rangeQuery(prefix: string, options: ScanOptions): RangeQuery | undefined {
  const { after, limit } = options;
  if (LONE_SURROGATE.test(prefix) || (after !== undefined && LONE_SURROGATE.test(after))) return undefined;
  // Injective: the limit ends at ':', the prefix's length says where it ends.
  const id = `${options.keysOnly === true ? 'k' : 'v'}${limit}:${prefix.length}:${prefix}${after === undefined ? '-' : '+' + after}`;
  return { id, prefix, options };
}

export class RangeCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byIndex = new Map<string, Set<Entry>>();
  /** How many entries have an index of each length. */
  private readonly indexLengths = new Map<number, number>();
  private bytes = 0;
  private begun = 0;
  /** Every batch up to this one has settled. */
  private settled = 0;
  private scanning = 0;
  private batches: Batch[] = [];
  /** Batches up to this one are no longer remembered. */
  private forgotten = 0;

  constructor(private readonly maxBytes: number) {}

  /** The rows of the latest state for this scan, if cached. Read-only: callers copy before changing. */
  lookup(query: RangeQuery): readonly KeyValue[] | undefined {
    return this.entries.get(query.id)?.rows;
  }

  /** Before a scan that missed reads LevelDB. Every ticket must come back through finishScan. */
  startScan(): number {
    this.scanning++;
    return this.settled;
  }

  /** A scan is done: `rows` what it read (undefined when it failed). */
  finishScan(ticket: number, query: RangeQuery, rows: readonly KeyValue[] | undefined): void {
    this.scanning--;
    if (rows !== undefined && this.maxBytes > 0 && ticket >= this.forgotten) {
      const entry = makeEntry(query, rows);
      if (entry.bytes <= this.maxBytes / 4 && !this.batches.some((b) => b.seq > ticket && touches(b.written, entry))) {
        this.set(entry);
      }
    }
    if (this.scanning === 0) this.batches = this.batches.filter((b) => b.seq > this.settled);
  }

  /**
   * A batch writing the keys of `written` is about to go to LevelDB. Batches
   * are written one at a time (the core's group commit): settle() ends this one.
   */
  begin(written: ReadonlyMap<string, unknown>): void {
    const seq = ++this.begun;
    this.batches.push({ seq, written });
    if (this.batches.length > MAX_BATCHES) this.forgotten = (this.batches.shift() as Batch).seq;
    if (this.entries.size === 0) return;
    for (const key of written.keys()) {
      for (const length of this.indexLengths.keys()) {
        const candidates = this.byIndex.get(key.slice(0, length));
        if (candidates === undefined) continue;
        for (const entry of candidates) if (holds(entry, key)) this.drop(entry);
      }
    }
  }

  /** The batch begun last has been written, or has failed. */
  settle(): void {
    this.settled = this.begun;
    if (this.scanning === 0) this.batches = [];
  }

  clear(): void {
    this.entries.clear();
    this.byIndex.clear();
    this.indexLengths.clear();
    this.bytes = 0;
    this.batches = [];
    this.forgotten = this.begun;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes the entries are counted at. */
  get usedBytes(): number {
    return this.bytes;
  }

  private set(entry: Entry): void {
    const old = this.entries.get(entry.id);
    if (old !== undefined) this.drop(old);
    this.entries.set(entry.id, entry);
    let group = this.byIndex.get(entry.index);
    if (group === undefined) this.byIndex.set(entry.index, (group = new Set()));
    group.add(entry);
    const length = entry.index.length;
    this.indexLengths.set(length, (this.indexLengths.get(length) ?? 0) + 1);
    this.bytes += entry.bytes;
    for (const oldest of this.entries.values()) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest);
    }
  }

  private drop(entry: Entry): void {
    if (this.entries.get(entry.id) !== entry) return;
    this.entries.delete(entry.id);
    const group = this.byIndex.get(entry.index) as Set<Entry>;
    group.delete(entry);
    if (group.size === 0) this.byIndex.delete(entry.index);
    const length = entry.index.length;
    const count = (this.indexLengths.get(length) as number) - 1;
    if (count === 0) this.indexLengths.delete(length);
    else this.indexLengths.set(length, count);
    this.bytes -= entry.bytes;
  }
}

function makeEntry(query: RangeQuery, rows: readonly KeyValue[]): Entry {
  const { prefix, options } = query;
  const from = options.after !== undefined && compareBytewise(options.after, prefix) >= 0 ? options.after : prefix;
  const last = rows[rows.length - 1];
  const cut = rows.length >= options.limit && last !== undefined;
  const to = cut ? last.key : prefixEndText(prefix);
  let bytes = ENTRY_OVERHEAD_BYTES + 2 * (query.id.length + from.length + (to?.length ?? 0));
  for (const row of rows) bytes += rowBytes(row);
  return { id: query.id, rows, from, to, toInclusive: cut, index: commonPrefix(from, to ?? ''), bytes };
}

/** Whether `key` lies in the entry's span. */
function holds(entry: Entry, key: string): boolean {
  if (compareBytewise(key, entry.from) < 0) return false;
  if (entry.to === undefined) return true;
  const c = compareBytewise(key, entry.to);
  return c < 0 || (c === 0 && entry.toInclusive);
}

function touches(written: ReadonlyMap<string, unknown>, entry: Entry): boolean {
  for (const key of written.keys()) if (holds(entry, key)) return true;
  return false;
}

/** The longest common prefix of two well-formed texts, never ending inside a surrogate pair. */
function commonPrefix(a: string, b: string): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i > 0 && isHigh(a.charCodeAt(i - 1))) i--;
  return a.slice(0, i);
}

const isHigh = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
