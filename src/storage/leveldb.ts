/**
 * LevelDbBackend: the embedded default, on classic-level, in the layout of
 * leveldb-layout.ts. A group of commits is one LevelDB batch (data, revision
 * counter, history entries, trim of the oldest history), so a crash never
 * leaves half a commit. Commits queue in a group commit (group-commit.ts):
 * while one batch is written, the next group gathers, and its commits are
 * checked in order, each against the ones before it. This file must never
 * parse or validate values.
 */
import { ClassicLevel, type BatchOperation } from 'classic-level';
import { LucienError } from '../errors';
import type {
  Backend,
  Capabilities,
  Change,
  CommitResult,
  Condition,
  KeyValue,
  LifecycleStatus,
  Mutation,
  ScanOptions,
  Snapshot,
} from './backend';
import { type Listener, Listeners } from './listeners';
import { compareBytewise } from './bytewise';
import { GroupCommit, type Queued } from './group-commit';
import { DATA, decodeChanges, decodeRecord, encodeChanges, historyKey, META_REVISION, prefixEnd, validFrom } from './leveldb-layout';
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
  /** Bytes of recently used records kept in memory in front of LevelDB (LUCIEN_READ_CACHE_BYTES; 0 disables). */
  readonly cacheBytes?: number;
}

/*
 * Point reads use getSync: a read served from LevelDB's block cache costs a
 * few µs, while an async read pays two threadpool hops (the bench measured
 * 60 µs vs 38 µs per bridge round trip). A cold read from disk blocks the
 * event loop for its duration; scans stay asynchronous.
 */
type Db = ClassicLevel<string, string>;
/** Commits queued together while a batch is written go into the next batch, up to this many. */
const MAX_GROUP = 64;
/** The read cache's size when the caller names none (the config's default, for tests and tools). */
const DEFAULT_READ_CACHE_BYTES = 64 * 1024 * 1024;

interface Commit {
  readonly mutations: readonly Mutation[];
  readonly conditions: readonly Condition[];
}
type LevelSnapshot = ReturnType<Db['snapshot']>;

export class LevelDbBackend implements Backend {
  readonly supports: Capabilities = { snapshots: true, history: true, remote: false, persistent: true };
  private readonly db: Db;
  private readonly historyRevisions: number;
  private readonly sync: boolean;
  private state: LifecycleStatus = 'closed';
  private transition: Promise<void> = Promise.resolve();
  private revision = 0;
  private oldest = 1;
  /** Commits queue here; each group that gathers while a batch is written becomes the next batch. */
  private readonly commits = new GroupCommit<Commit, CommitResult>((group) => this.applyGroup(group), MAX_GROUP);
  /** Keys touched per revision since open, so prefix guards rarely read history from disk. */
  private readonly recent = new Map<number, readonly string[]>();
  private recentFrom = 1;
  private readonly snapshots = new Set<LevelSnapshot>();
  private readonly listeners = new Listeners();
  private readonly cache: ReadCache;

  constructor(options: LevelDbBackendOptions) {
    this.db = new ClassicLevel<string, string>(options.location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    this.historyRevisions = Math.max(1, options.historyRevisions ?? 10000);
    this.sync = options.sync ?? false;
    this.cache = new ReadCache(options.cacheBytes ?? DEFAULT_READ_CACHE_BYTES);
  }

  get status(): LifecycleStatus {
    return this.state;
  }

  open(): Promise<void> {
    this.transition = this.transition.then(async () => {
      if (this.state === 'open') return;
      this.state = 'opening';
      try {
        await this.db.open({ createIfMissing: true });
        const raw = await this.db.get(META_REVISION);
        this.revision = raw === undefined ? 0 : Number(raw);
        // The option may have shrunk since the last run: trim to the window now.
        const floor = Math.max(1, this.revision - this.historyRevisions + 1);
        await this.db.clear({ gte: 'h', lt: historyKey(floor) });
        const first = await this.db.keys({ gte: 'h', lt: 'i', limit: 1 }).all();
        this.oldest = first[0] === undefined ? this.revision + 1 : Number(first[0].slice(1));
        this.recent.clear();
        this.cache.clear();
        this.recentFrom = this.revision + 1;
        this.state = 'open';
      } catch (err) {
        this.state = 'closed';
        await this.db.close().catch(() => undefined);
        throw err;
      }
    });
    return this.transition;
  }

  close(): Promise<void> {
    const closing = this.transition.catch(() => undefined).then(async () => {
      if (this.state === 'closed') return;
      this.state = 'closing';
      await this.commits.idle();
      for (const snapshot of this.snapshots) await snapshot.close();
      this.snapshots.clear();
      await this.db.close();
      this.state = 'closed';
    });
    this.transition = closing.catch(() => undefined);
    return closing;
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.revision;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    return this.readLatest(key);
  }

  async snapshot(): Promise<Snapshot> {
    this.assertOpen();
    const snapshot = this.db.snapshot();
    this.snapshots.add(snapshot);
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
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
    const check = (): void => {
      this.assertOpen();
      if (released) throw new LucienError('INTERNAL', 'snapshot used after release');
    };
    return {
      revision,
      get: async (key) => {
        check();
        return this.readAt(key, revision, snapshot);
      },
      getMany: async (keys) => {
        check();
        return keys.map((key) => this.readAt(key, revision, snapshot));
      },
      getManySync: (keys) => {
        check();
        return keys.map((key) => this.readAt(key, revision, snapshot));
      },
      scan: async (prefix, options) => {
        check();
        return this.scan(prefix, options, snapshot);
      },
      release,
    };
  }

  commit(mutations: readonly Mutation[], conditions: readonly Condition[] = []): Promise<CommitResult> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.commits.submit({ mutations, conditions });
  }

  async oldestRetainedRevision(): Promise<number> {
    this.assertOpen();
    return this.oldest;
  }

  async changesSince(after: number, limit: number): Promise<Change[]> {
    this.assertOpen();
    const compacted = (): LucienError =>
      new LucienError('COMPACTED', `revision ${after + 1} is older than the retained history`);
    if (after < this.oldest - 1) throw compacted();
    const out: Change[] = [];
    if (after >= this.revision || limit <= 0) return out;
    const iterator = this.db.iterator<string, Buffer>({ gt: historyKey(after), lt: 'i', valueEncoding: 'buffer' });
    try {
      let expected = after + 1;
      for await (const [key, value] of iterator) {
        const revision = Number(key.slice(1));
        // A commit may have trimmed this entry between our check and the read.
        if (revision !== expected++) throw compacted();
        out.push(...decodeChanges(value, revision));
        if (out.length >= limit) break;
      }
      if (out.length === 0) throw compacted();
    } finally {
      await iterator.close();
    }
    return out;
  }

  subscribe(listener: Listener): () => void {
    return this.listeners.add(listener);
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new LucienError('UNAVAILABLE', `leveldb backend is ${this.state}`);
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

  private async scan(prefix: string, options: ScanOptions, snapshot: LevelSnapshot): Promise<KeyValue[]> {
    if (options.limit <= 0) return [];
    const lower =
      options.after !== undefined && compareBytewise(options.after, prefix) >= 0
        ? { gt: Buffer.from(DATA + options.after) }
        : { gte: Buffer.from(DATA + prefix) };
    const entries = await this.db
      .iterator<Buffer, string>({
        ...lower,
        lt: prefixEnd(Buffer.from(DATA + prefix)),
        limit: options.limit,
        keyEncoding: 'buffer',
        snapshot,
      })
      .all();
    const keysOnly = options.keysOnly === true;
    return entries.map(([key, raw]) => decodeRecord(key.toString('utf8', 1), raw, keysOnly));
  }

  /**
   * Applies a group of commits as one LevelDB batch. Each commit is checked in
   * order against the state the commits before it in the group leave (its own
   * conditions, and prefix guards against their changes too), gets the next
   * revision if it changes anything, and is settled once the batch is durable.
   * A commit whose conditions fail is refused alone; a failed batch fails the
   * commits it carried. Readers never see a group half-applied: LevelDB
   * applies the batch atomically, and the revision counter and the read
   * cache move only after it.
   */
  private async applyGroup(group: readonly Queued<Commit, CommitResult>[]): Promise<void> {
    const overlay = new Map<string, KeyValue | undefined>();
    const current = (key: string): KeyValue | undefined => (overlay.has(key) ? overlay.get(key) : this.readLatest(key));
    /** Changes of the commits accepted so far in this group, for prefix guards. */
    const inGroup: Change[] = [];
    const ops: BatchOperation<Db, string, string | Buffer>[] = [];
    const written = new Map<string, readonly [CachedRecord, number]>();
    const accepted: { queued: Queued<Commit, CommitResult>; result: CommitResult; changes: Change[] }[] = [];
    let last = this.revision;

    for (const queued of group) {
      const { mutations, conditions } = queued.input;
      try {
        for (const condition of conditions) await this.checkCondition(condition, current, inGroup);
      } catch (err) {
        queued.reject(err);
        continue;
      }
      const next = last + 1;
      const changes: Change[] = [];
      const pending = new Map<string, KeyValue | undefined>();
      const now = (key: string): KeyValue | undefined => (pending.has(key) ? pending.get(key) : current(key));
      const applied = mutations.map((m) => {
        const existing = now(m.key);
        if (m.type === 'put') {
          const createRevision = existing?.createRevision ?? next;
          pending.set(m.key, { key: m.key, value: m.value, createRevision, modRevision: next });
          changes.push({ type: 'put', key: m.key, value: m.value, revision: next });
          return true;
        }
        if (existing === undefined) return false;
        pending.set(m.key, undefined);
        changes.push({ type: 'delete', key: m.key, value: '', revision: next });
        return true;
      });
      if (changes.length === 0) {
        accepted.push({ queued, result: { revision: last, applied }, changes });
        continue;
      }
      for (const [key, kv] of pending) {
        overlay.set(key, kv);
        if (kv === undefined) {
          ops.push({ type: 'del', key: DATA + key });
          written.set(key, [ABSENT, next]);
        } else {
          const record = `${kv.createRevision},${next},${kv.value}`;
          ops.push({ type: 'put', key: DATA + key, value: record });
          written.set(key, [record, next]);
        }
      }
      ops.push({ type: 'put', key: historyKey(next), value: encodeChanges(changes), valueEncoding: 'buffer' });
      inGroup.push(...changes);
      accepted.push({ queued, result: { revision: next, applied }, changes });
      last = next;
    }

    if (last > this.revision) {
      ops.push({ type: 'put', key: META_REVISION, value: String(last) });
      const oldest = Math.max(this.oldest, last - this.historyRevisions + 1);
      for (let r = this.oldest; r < oldest; r++) ops.push({ type: 'del', key: historyKey(r) });
      this.cache.begin(written.keys());
      try {
        await this.db.batch<string, string | Buffer>(ops, { sync: this.sync });
      } catch (err) {
        this.cache.fail();
        for (const { queued } of accepted) queued.reject(err);
        return;
      }
      this.revision = last;
      this.cache.end(written);
      this.oldest = oldest;
    }
    for (const { queued, result, changes } of accepted) {
      if (changes.length > 0) {
        this.recent.set(result.revision, changes.map((c) => c.key));
        this.recent.delete(result.revision - this.historyRevisions);
        this.listeners.emit(changes);
      }
      queued.resolve(result);
    }
  }

  /** `current`: the latest state including earlier commits of the group; `inGroup`: their changes (not yet in history). */
  private async checkCondition(condition: Condition, current: (key: string) => KeyValue | undefined, inGroup: readonly Change[]): Promise<void> {
    if (condition.type === 'key') {
      const kv = current(condition.key);
      const holds = condition.modRevision === 0 ? kv === undefined : kv?.modRevision === condition.modRevision;
      if (!holds) throw new LucienError('CONDITION_FAILED', 'condition on key failed', { key: condition.key });
      return;
    }
    const early = inGroup.find((c) => c.revision > condition.revision && c.key.startsWith(condition.prefix));
    if (early !== undefined) {
      throw new LucienError('CONDITION_FAILED', 'a key under the guarded prefix changed', { key: early.key });
    }
    if (condition.revision >= this.revision) return;
    // Older than the retained history: we cannot prove nothing changed, so fail.
    if (condition.revision < this.oldest - 1) {
      throw new LucienError('CONDITION_FAILED', 'prefix guard is older than the retained history', {
        key: condition.prefix,
      });
    }
    const hit = await this.findChangedKey(condition.prefix, condition.revision);
    if (hit !== undefined) {
      throw new LucienError('CONDITION_FAILED', 'a key under the guarded prefix changed', { key: hit });
    }
  }

  /** First key starting with `prefix` changed by a revision after `after`, from memory, else from the on-disk history. */
  private async findChangedKey(prefix: string, after: number): Promise<string | undefined> {
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
