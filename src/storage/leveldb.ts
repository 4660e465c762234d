/**
 * LevelDbBackend: the embedded default, on classic-level, in the layout of
 * leveldb-layout.ts. Lifecycle, conditions, revisions and the group commit
 * are the core's (core.ts): each group of commits the core hands over
 * becomes one LevelDB batch (data, revision counter, history entries, trim
 * of the oldest history), so a crash never leaves half a commit. This file
 * only reads and writes, and must never parse or validate values.
 */
import { ClassicLevel } from 'classic-level';
import { LucienError } from '../errors';
import type { Capabilities, Change, KeyValue, ScanOptions } from './backend';
import { BackendCore, type SnapshotReader, type WriteBatch } from './core';
import { compacted } from './rules';
import {
  DATA,
  decodeChanges,
  decodeRecord,
  encodeChanges,
  historyKey,
  META_REVISION,
  validFrom,
} from './leveldb-layout';
import { type Db, type LevelSnapshot, scanData, scanLatest } from './leveldb-scan';
import { RangeCache } from './range-cache';
import { ABSENT, type CachedRecord, ReadCache } from './read-cache';

export interface LevelDbBackendOptions {
  /** Directory of the database; created if missing. */
  readonly location: string;
  /** How many past revisions stay available to changesSince / prefix guards (default 10000). */
  readonly historyRevisions?: number;
  /**
   * fsync every commit (default false). Without it a commit is acknowledged once
   * LevelDB has write(2)-n it to its log, which survives kill -9 of the process;
   * only an OS crash or power loss can lose the latest commits.
   */
  readonly sync?: boolean;
  /**
   * Bytes kept in memory in front of LevelDB (LUCIEN_READ_CACHE_BYTES; 0 disables): three quarters
   * for recently used records (read-cache.ts), a quarter for recent scan results (range-cache.ts).
   */
  readonly cacheBytes?: number;
}

/*
 * Point reads use getSync: a read served from LevelDB's block cache costs a
 * few µs, while an async read pays two threadpool hops (the bench measured
 * 60 µs vs 38 µs per bridge round trip). A cold read from disk blocks the
 * event loop for its duration; scans stay asynchronous.
 */

/** The read cache's size when the caller names none (the config's default, for tests and tools). */
const DEFAULT_READ_CACHE_BYTES = 64 * 1024 * 1024;
/** History entries are bytes (encodeChanges). */
const HISTORY_VALUE = { valueEncoding: 'buffer' } as const;

export class LevelDbBackend extends BackendCore {
  readonly supports: Capabilities = {
    snapshots: true,
    history: true,
    remote: false,
    persistent: true,
    getManySync: true,
  };
  private readonly db: Db;
  private readonly historyRevisions: number;
  private readonly sync: boolean;
  private oldest = 1;
  /** Keys touched per revision since open, so prefix guards rarely read history from disk. */
  private readonly recent = new Map<number, readonly string[]>();
  private recentFrom = 1;
  private readonly snapshots = new Set<LevelSnapshot>();
  private readonly cache: ReadCache;
  private readonly ranges: RangeCache;

  constructor(options: LevelDbBackendOptions) {
    super('leveldb');
    this.db = new ClassicLevel<string, string>(options.location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    this.historyRevisions = Math.max(1, options.historyRevisions ?? 10000);
    this.sync = options.sync ?? false;
    const cacheBytes = options.cacheBytes ?? DEFAULT_READ_CACHE_BYTES;
    this.ranges = new RangeCache(Math.floor(cacheBytes / 4));
    this.cache = new ReadCache(cacheBytes - Math.floor(cacheBytes / 4));
  }

  protected async _open(): Promise<void> {
    try {
      await this.db.open({ createIfMissing: true }).catch((err: unknown) => {
        // classic-level says only "Database failed to open"; its cause says why.
        if ((err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') {
          throw new LucienError(
            'UNAVAILABLE',
            `data directory ${this.db.location} is in use by another process (another Lucien server?)`,
          );
        }
        throw err;
      });
      const raw = await this.db.get(META_REVISION);
      this.revision = raw === undefined ? 0 : Number(raw);
      // The option may have shrunk since the last run: trim to the window now.
      const floor = Math.max(1, this.revision - this.historyRevisions + 1);
      await this.db.clear({ gte: 'h', lt: historyKey(floor) });
      const first = await this.db.keys({ gte: 'h', lt: 'i', limit: 1 }).all();
      this.oldest = first[0] === undefined ? this.revision + 1 : Number(first[0].slice(1));
      this.recent.clear();
      this.cache.clear();
      this.ranges.clear();
      this.recentFrom = this.revision + 1;
    } catch (err) {
      await this.db.close().catch(() => undefined);
      throw err;
    }
  }

  protected async _close(): Promise<void> {
    for (const snapshot of this.snapshots) await snapshot.close();
    this.snapshots.clear();
    await this.db.close();
  }

  protected _get(key: string): KeyValue | undefined {
    return this.readLatest(key);
  }

  protected async _snapshot(): Promise<SnapshotReader> {
    const snapshot = this.db.snapshot();
    this.snapshots.add(snapshot);
    const release = async (): Promise<void> => {
      this.snapshots.delete(snapshot);
      await snapshot.close();
    };
    let revision: number;
    try {
      // Read the revision *through* the snapshot: the in-memory counter may lag a
      // batch that LevelDB has already applied.
      const raw = this.db.getSync(META_REVISION, { snapshot });
      revision = raw === undefined ? 0 : Number(raw);
    } catch (err) {
      await release();
      throw err;
    }
    return {
      revision,
      getMany: (keys) => keys.map((key) => this.readAt(key, revision, snapshot)),
      scan: (prefix, options) => scanData(this.db, prefix, options, snapshot),
      release,
    };
  }

  /** The latest state: from the range cache, else LevelDB without a snapshot (leveldb-scan.ts). */
  protected override _scan(prefix: string, options: ScanOptions): Promise<readonly KeyValue[]> {
    return scanLatest(this.db, this.ranges, prefix, options);
  }

  protected _oldestRetained(): number {
    return this.oldest;
  }

  protected async _changesSince(after: number, limit: number): Promise<Change[]> {
    const out: Change[] = [];
    const iterator = this.db.iterator<string, Buffer>({ gt: historyKey(after), lt: 'i', valueEncoding: 'buffer' });
    try {
      let expected = after + 1;
      for await (const [key, value] of iterator) {
        const revision = Number(key.slice(1));
        // A commit may have trimmed this entry between our check and the read.
        if (revision !== expected++) throw compacted(after);
        out.push(...decodeChanges(value, revision));
        if (out.length >= limit) break;
      }
      if (out.length === 0) throw compacted(after);
    } finally {
      await iterator.close();
    }
    return out;
  }

  /** The latest committed version: from the cache, else LevelDB's newest state. */
  private readLatest(key: string): KeyValue | undefined {
    let record = this.cache.latest(key);
    if (record === undefined) {
      record = this.db.getSync(DATA + key) ?? ABSENT;
      // Not in flight: no commit touching the key is being applied, so what we read is current.
      if (!this.cache.isInFlight(key)) this.cache.fill(key, record, validFrom(record, this.revision));
    }
    return record === ABSENT ? undefined : decodeRecord(key, record, false);
  }

  /** The version at a snapshot's revision: from the cache when valid then, else through the snapshot. */
  private readAt(key: string, revision: number, snapshot: LevelSnapshot): KeyValue | undefined {
    let record = this.cache.lookup(key, revision);
    if (record === undefined) {
      record = this.db.getSync(DATA + key, { snapshot }) ?? ABSENT;
      // Only a read of the current revision may fill: an older snapshot may hold a superseded version.
      if (revision === this.revision) this.cache.fill(key, record, validFrom(record, revision));
    }
    return record === ABSENT ? undefined : decodeRecord(key, record, false);
  }

  /**
   * One group as one LevelDB batch. Readers never see it half-applied:
   * LevelDB applies the batch atomically. Before it, the read cache drops
   * the keys it writes and the range cache every range holding one; the
   * read cache takes the new versions only after it (read-cache.ts,
   * range-cache.ts).
   */
  protected async _write(batch: WriteBatch): Promise<void> {
    // A chained batch: each op goes straight to LevelDB's WriteBatch, where an
    // array batch is first copied op by op by abstract-level (a third more CPU).
    const ops = this.db.batch();
    const written = new Map<string, readonly [CachedRecord, number]>();
    const oldest = Math.max(this.oldest, batch.revision - this.historyRevisions + 1);
    try {
      for (const [key, { revision, kv }] of batch.writes) {
        if (kv === undefined) {
          ops.del(DATA + key);
          written.set(key, [ABSENT, revision]);
        } else {
          const record = `${kv.createRevision},${revision},${kv.value}`;
          ops.put(DATA + key, record);
          written.set(key, [record, revision]);
        }
      }
      for (const { revision, changes } of batch.commits) {
        ops.put<string, Buffer>(historyKey(revision), encodeChanges(changes), HISTORY_VALUE);
      }
      ops.put(META_REVISION, String(batch.revision));
      for (let r = this.oldest; r < oldest; r++) ops.del(historyKey(r));
    } catch (err) {
      await ops.close();
      throw err;
    }
    this.cache.begin(written.keys());
    this.ranges.begin(written);
    try {
      await ops.write({ sync: this.sync });
    } catch (err) {
      this.cache.fail();
      this.ranges.settle();
      throw err;
    }
    this.cache.end(written);
    this.ranges.settle();
    this.oldest = oldest;
    for (const { revision, changes } of batch.commits) {
      this.recent.set(
        revision,
        changes.map((c) => c.key),
      );
      this.recent.delete(revision - this.historyRevisions);
    }
  }

  /** First key starting with `prefix` changed by a revision after `after`, from memory, else from the on-disk history. */
  protected async _changedUnder(prefix: string, after: number): Promise<string | undefined> {
    if (after + 1 < this.recentFrom) {
      const iterator = this.db.iterator<string, Buffer>({
        gt: historyKey(after),
        lt: historyKey(this.recentFrom),
        valueEncoding: 'buffer',
      });
      try {
        for await (const [key, value] of iterator) {
          const hit = decodeChanges(value, Number(key.slice(1))).find((c) => c.key.startsWith(prefix));
          if (hit !== undefined) return hit.key;
        }
      } finally {
        await iterator.close();
      }
    }
    for (let r = Math.max(after + 1, this.recentFrom); r <= this.revision; r++) {
      const hit = this.recent.get(r)?.find((k) => k.startsWith(prefix));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}
