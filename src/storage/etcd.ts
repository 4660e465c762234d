/**
 * EtcdBackend: the Backend contract on an etcd cluster that several Lucien
 * servers share. etcd's MVCC is the store: a snapshot is a Range at a fixed
 * revision, a commit is one Txn, history is etcd's own until compaction.
 *
 * Revisions are etcd's, unchanged: etcd's counter is the one clock all
 * servers see, and a commit's Txn gets exactly one. Every commit also puts
 * the marker <ns>rev, and the current revision is its mod_revision, so it
 * moves only on Lucien commits even when others use the same etcd (their
 * writes only leave gaps in the numbering). Writers inside the namespace
 * other than Lucien are not supported; all servers on one namespace must use
 * the same historyRevisions.
 *
 * The contract, mapped (layout: etcd-layout.ts; Txn: etcd-commit.ts):
 * - snapshot(): reads the marker, then reads at that Range's header revision.
 * - commit(): one Txn of compares, writes, and a failure branch that reads
 *   what names the failing key; a lost race on an internal compare is planned
 *   again. Durable once etcd acknowledges (its WAL is fsynced).
 * - prefix guards: deletes also put tombstones, so a range compare sees puts
 *   and deletes; tombstones below the window are trimmed inside later commits
 *   (alone, a trim would spend a revision); the window is a compare too.
 * - changesSince(): a Watch from after + 1, ended by the marker's event.
 * - subscribe(): one Watch on the namespace while open (etcd-watch.ts).
 * - history: historyRevisions etcd revisions; every maintenanceEvery commits
 *   this server compacts etcd to the window's floor (unless compact: false).
 * Limits: a commit must fit etcd's --max-txn-ops (compares: one per key
 * condition and deleted key, three per prefix guard; writes: one per put, two
 * or three per delete) and --max-request-bytes; a snapshot older than the
 * compaction fails with UNAVAILABLE. A commit cut off from etcd fails with
 * UNAVAILABLE and may or may not have happened (etcd3's retries are off, so
 * it is never applied twice or misreported as CONDITION_FAILED).
 * This file must never parse values, and never write outside its namespace.
 */
import { Etcd3 } from 'etcd3';
import { LucienError } from '../errors';
import type { Backend, Capabilities, Change, CommitResult, Condition, KeyValue, LifecycleStatus, Mutation, Snapshot } from './backend';
import { compareBytewise } from './bytewise';
import { compacted } from './rules';
import { type Trim, diagnose, keysToRead, planTxn } from './etcd-commit';
import { TRY_ONCE, isCompacted, readKeys, toLucienError } from './etcd-io';
import { EtcdLayout } from './etcd-layout';
import { EtcdFeed, readHistory } from './etcd-watch';

export interface EtcdBackendOptions {
  /** etcd client endpoints, e.g. ['127.0.0.1:2379']. */
  readonly endpoints: readonly string[];
  /** Prefix under which Lucien keeps all its keys (default 'lucien/'). */
  readonly namespace?: string;
  /** How many etcd revisions stay available to changesSince / prefix guards (default 10000). */
  readonly historyRevisions?: number;
  /** Commits of this server between tombstone trims and compactions (default 1000). */
  readonly maintenanceEvery?: number;
  /** Compact etcd to the floor of the history window during maintenance (default true). */
  readonly compact?: boolean;
}

/** Retries of a commit whose internal compares lost a race (each loss means another commit succeeded). */
const MAX_ATTEMPTS = 50;
/** Old tombstones removed per maintenance round. */
const TRIM_BATCH = 100;

export class EtcdBackend implements Backend {
  readonly supports: Capabilities = { snapshots: true, history: true, remote: true, persistent: true, getManySync: false };
  private readonly layout: EtcdLayout;
  private readonly historyRevisions: number;
  private readonly maintenanceEvery: number;
  private readonly compact: boolean;
  private state: LifecycleStatus = 'closed';
  private client: Etcd3 | undefined;
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly feed: EtcdFeed;
  private trims: Trim[] = [];
  private commitsSinceMaintenance = 0;
  private compactedTo = 0;

  constructor(private readonly options: EtcdBackendOptions) {
    this.layout = new EtcdLayout(options.namespace ?? 'lucien/');
    this.feed = new EtcdFeed(this.layout);
    this.historyRevisions = Math.max(1, options.historyRevisions ?? 10000);
    this.maintenanceEvery = Math.max(1, options.maintenanceEvery ?? 1000);
    this.compact = options.compact ?? true;
    if (options.endpoints.length === 0) throw new LucienError('INVALID_ARGUMENT', 'no etcd endpoints given');
  }

  get status(): LifecycleStatus {
    return this.state;
  }

  open(): Promise<void> {
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async connect(): Promise<void> {
    await this.closing;
    if (this.state !== 'closed') return;
    this.state = 'opening';
    const client = new Etcd3({
      hosts: [...this.options.endpoints],
      dialTimeout: 5000,
      faultHandling: { global: TRY_ONCE },
      grpcOptions: { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 },
    });
    try {
      this.client = client;
      const { revision, header } = await this.latest();
      await this.feed.start(client, revision, header + 1);
      this.state = 'open';
    } catch (err) {
      client.close();
      this.client = undefined;
      this.state = 'closed';
      throw toLucienError(err);
    }
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closing';
    this.closing = (async () => {
      await Promise.allSettled([...this.inflight]);
      await this.feed.stop();
      this.client?.close();
      this.client = undefined;
      this.state = 'closed';
      this.closing = undefined;
    })();
    return this.closing;
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return (await this.latest()).revision;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const snapshot = await this.snapshot();
    try {
      return await snapshot.get(key);
    } finally {
      await snapshot.release();
    }
  }

  async snapshot(): Promise<Snapshot> {
    this.assertOpen();
    const { revision, header } = await this.latest();
    let released = false;
    const read = async <T>(fn: (client: Etcd3) => Promise<T>): Promise<T> => {
      this.assertOpen();
      if (released) throw new LucienError('INTERNAL', 'snapshot used after release');
      try {
        return await fn(this.etcd());
      } catch (err) {
        if (isCompacted(err)) throw new LucienError('UNAVAILABLE', `snapshot at revision ${revision} is older than etcd's compaction; take a new one`);
        throw toLucienError(err);
      }
    };
    const getMany = (keys: readonly string[]): Promise<(KeyValue | undefined)[]> =>
      read(async (client) => {
        const [kvs, rebirths] = await Promise.all([
          readKeys(client, keys.map((k) => this.layout.data(k)), { revision: header }),
          readKeys(client, keys.map((k) => this.layout.rebirth(k)), { revision: header, keysOnly: true }),
        ]);
        return kvs.map((kv, i) => (kv === undefined ? undefined : this.layout.keyValue(kv, false, rebirths[i])));
      });
    return {
      revision,
      get: async (key) => (await getMany([key]))[0],
      getMany,
      getManySync: () => {
        throw new LucienError('INTERNAL', 'the etcd backend has no synchronous reads');
      },
      scan: (prefix, options) =>
        read(async (client) => {
          if (options.limit <= 0) return [];
          const { after } = options;
          // after + NUL is the smallest key bytewise greater than after.
          const start = after !== undefined && compareBytewise(after, prefix) >= 0 ? `${after}\0` : prefix;
          const keysOnly = options.keysOnly === true;
          const page = { limit: options.limit, revision: header };
          // Rebirth marks exist only beside data records, so the same bounds and
          // limit cover every mark the page of data needs (and they are rare).
          const [data, marks] = await Promise.all([
            client.kv.range({ key: this.layout.data(start), range_end: this.layout.dataRange(prefix).range_end, keys_only: keysOnly, ...page }),
            client.kv.range({ key: this.layout.rebirth(start), range_end: this.layout.rebirthRange(prefix).range_end, keys_only: true, ...page }),
          ]);
          const reborn = new Map(marks.kvs.map((kv) => [this.layout.decode(kv.key)?.key, kv]));
          return data.kvs.map((kv) => this.layout.keyValue(kv, keysOnly, reborn.get(this.layout.decode(kv.key)?.key)));
        }),
      release: async () => {
        released = true;
      },
    };
  }

  commit(mutations: readonly Mutation[], conditions: readonly Condition[] = []): Promise<CommitResult> {
    return this.track(() => this.apply(mutations, conditions));
  }

  async oldestRetainedRevision(): Promise<number> {
    this.assertOpen();
    return this.oldestRetained((await this.latest()).revision);
  }

  async changesSince(after: number, limit: number): Promise<Change[]> {
    this.assertOpen();
    const { revision, marker } = await this.latest();
    if (after < this.oldestRetained(revision) - 1) {
      throw compacted(after);
    }
    if (limit <= 0 || after >= marker) return [];
    return readHistory(this.etcd(), this.layout, after, marker, limit);
  }

  subscribe(listener: (changes: readonly Change[]) => void): () => void {
    return this.feed.subscribe(listener);
  }

  private async apply(mutations: readonly Mutation[], conditions: readonly Condition[]): Promise<CommitResult> {
    const client = this.etcd();
    for (let attempt = 1; ; attempt++) {
      const reading = keysToRead(mutations);
      const records = reading.flatMap((k) => [this.layout.data(k), this.layout.rebirth(k)]);
      const current = await readKeys(client, records, { keysOnly: true });
      const seen = new Map(reading.map((key, i) => [key, { modRevision: Number(current[2 * i]?.mod_revision ?? 0), reborn: current[2 * i + 1] !== undefined }]));
      const trims = this.trims;
      const plan = planTxn(this.layout, mutations, conditions, seen, trims, this.historyRevisions);
      const res = await client.kv.txn({ compare: plan.compare, success: plan.success, failure: plan.failure });
      if (res.succeeded) {
        if (!plan.changed) {
          const marker = Number(res.responses[0]?.response_range?.kvs[0]?.mod_revision ?? 0);
          return { revision: marker > 0 ? marker : Number(res.header.revision), applied: plan.applied };
        }
        const revision = Number(res.header.revision);
        this.feed.saw(revision);
        if (this.trims === trims) this.trims = [];
        if (++this.commitsSinceMaintenance >= this.maintenanceEvery) {
          this.commitsSinceMaintenance = 0;
          void this.track(() => this.maintain()).catch(() => undefined);
        }
        return { revision, applied: plan.applied };
      }
      const failed = diagnose(this.layout, conditions, res.responses, this.historyRevisions);
      if (failed !== undefined) throw failed;
      // Another commit won a race on a key we delete or a tombstone we trim: plan again, without trims.
      this.trims = [];
      if (attempt >= MAX_ATTEMPTS) throw new LucienError('UNAVAILABLE', 'commit kept losing races with concurrent commits');
    }
  }

  /** Finds tombstones below the history window for the next commit to trim, and compacts etcd to the window. */
  private async maintain(): Promise<void> {
    const client = this.etcd();
    const floor = (await this.latest()).marker - this.historyRevisions;
    if (floor <= 0) return;
    const old = await client.kv.range({ ...this.layout.tombstoneRange(''), keys_only: true, max_mod_revision: floor, limit: TRIM_BATCH });
    this.trims = old.kvs.flatMap((kv) => {
      const key = this.layout.decode(kv.key)?.key;
      return key === undefined ? [] : [{ key, modRevision: Number(kv.mod_revision) }];
    });
    if (!this.compact || floor <= this.compactedTo) return;
    try {
      await client.kv.compact({ revision: floor });
    } catch (err) {
      if (!isCompacted(err)) throw err; // another server compacted further already
    }
    this.compactedTo = floor;
  }

  /**
   * marker: the latest Lucien commit (0 before the first); header: etcd's
   * revision now; revision: what the Backend calls current, the marker, or
   * for a namespace without commits yet etcd's revision (so that its first
   * commit follows it as in any store, and it never goes backwards).
   */
  private async latest(): Promise<{ revision: number; marker: number; header: number }> {
    try {
      const res = await this.etcd().kv.range({ key: this.layout.meta, keys_only: true });
      const marker = Number(res.kvs[0]?.mod_revision ?? 0);
      const header = Number(res.header.revision);
      return { revision: marker > 0 ? marker : header, marker, header };
    } catch (err) {
      throw toLucienError(err);
    }
  }

  private oldestRetained(current: number): number {
    return Math.max(1, current - this.historyRevisions + 1, this.compactedTo + 1);
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    const run = fn().catch((err: unknown) => {
      throw toLucienError(err);
    });
    const settled = run.catch(() => undefined);
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return run;
  }

  private etcd(): Etcd3 {
    if (this.client === undefined) throw new LucienError('UNAVAILABLE', `etcd backend is ${this.state}`);
    return this.client;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new LucienError('UNAVAILABLE', `etcd backend is ${this.state}`);
  }
}
