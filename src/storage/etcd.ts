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
 *   again. Durable once etcd acknowledges (its WAL is fsynced). Exactly once
 *   through a commit slot, even when an answer is lost (etcd-apply.ts).
 * - get(): one read-only Txn (the record and its rebirth mark), no snapshot.
 * - clients: reads and commits go through the lean KV client (etcd-kv.ts:
 *   Range and Txn over node:http2, a third of etcd3's CPU per call); the
 *   etcd3 client serves the watch, the feed's checks and maintenance. Both
 *   consult the same member gates.
 * - failover (etcd-failover.ts): every endpoint is used; a member that fails
 *   is skipped for a second; every call has a per-attempt deadline and is
 *   retried on another member within the failover window.
 * - prefix guards: deletes also put tombstones, so a range compare sees puts
 *   and deletes; tombstones below the window are trimmed inside later commits
 *   (alone, a trim would spend a revision); the window is a compare too.
 * - changesSince(): a Watch from after + 1, ended by the marker's event.
 * - subscribe(): one Watch on the namespace while open, on one member at a
 *   time, moved to another when it falls silent behind the cluster (etcd-feed.ts).
 * - history: historyRevisions etcd revisions; every maintenanceEvery commits
 *   this server compacts etcd to the window's floor (unless compact: false)
 *   and finds old tombstones to trim (etcd-maintenance.ts).
 * Limits: a commit must fit etcd's --max-txn-ops (compares: one per key
 * condition and deleted key, three per prefix guard; writes: one per put, two
 * or three per delete) and --max-request-bytes; a snapshot older than the
 * compaction fails with UNAVAILABLE. A commit whose outcome no member could
 * settle within the failover window fails with UNAVAILABLE saying so (no
 * client retries on its own: a commit is never applied twice or misreported
 * as CONDITION_FAILED).
 * This file must never parse values, and never write outside its namespace.
 */
import { Etcd3, type IOptions } from 'etcd3';
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
  Snapshot,
  ScanOptions,
} from './backend';
import { EtcdCommitter } from './etcd-apply';
import { compacted } from './rules';
import { DEFAULT_FAILOVER, type FailoverOptions, MemberGates, watchBackoff, withFailover } from './etcd-failover';
import { TRY_ONCE, readKeys, toLucienError } from './etcd-io';
import { type EtcdKv, LeanEtcdKv } from './etcd-kv';
import { EtcdLayout } from './etcd-layout';
import { type Retrying, maintainHistory } from './etcd-maintenance';
import { EtcdFeed } from './etcd-feed';
import { FIRST_READ_KEYS, type Latest, etcdSnapshot, readLatest } from './etcd-snapshot';
import { readHistory } from './etcd-watch';

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
  /** Per-attempt deadline, failover window and member cool-down (etcd-failover.ts). */
  readonly failover?: Partial<FailoverOptions>;
}
export class EtcdBackend implements Backend {
  readonly supports: Capabilities = {
    snapshots: true,
    history: true,
    remote: true,
    persistent: true,
    getManySync: false,
  };
  private readonly layout: EtcdLayout;
  private readonly historyRevisions: number;
  private readonly maintenanceEvery: number;
  private readonly compact: boolean;
  private state: LifecycleStatus = 'closed';
  private client: Etcd3 | undefined;
  /** Reads and commits: the lean client (etcd-kv.ts); `client` (etcd3) serves the feed and maintenance. */
  private lean: LeanEtcdKv | undefined;
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly feed: EtcdFeed;
  private readonly failover: FailoverOptions;
  private readonly committer: EtcdCommitter;
  private commitsSinceMaintenance = 0;
  private compactedTo = 0;

  constructor(private readonly options: EtcdBackendOptions) {
    this.layout = new EtcdLayout(options.namespace ?? 'lucien/');
    this.failover = { ...DEFAULT_FAILOVER, ...options.failover };
    this.feed = new EtcdFeed(this.layout, {
      endpoints: options.endpoints,
      connect: (endpoint) => new Etcd3({ hosts: [endpoint], ...this.clientOptions() }),
      checkEveryMs: 1000,
      stallMs: this.failover.cooldownMs,
    });
    this.historyRevisions = Math.max(1, options.historyRevisions ?? 10000);
    this.maintenanceEvery = Math.max(1, options.maintenanceEvery ?? 1000);
    this.compact = options.compact ?? true;
    this.committer = new EtcdCommitter(this.layout, this.historyRevisions, this.failover);
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
    const gates = new MemberGates(this.failover.cooldownMs);
    const options = this.clientOptions();
    const client = new Etcd3({
      hosts: [...this.options.endpoints],
      ...options,
      faultHandling: { ...options.faultHandling, host: gates.policy },
    });
    const lean = new LeanEtcdKv(this.options.endpoints, gates);
    try {
      this.client = client;
      this.lean = lean;
      const { revision, header } = await this.latest();
      this.feed.start(client, revision, header);
      this.state = 'open';
    } catch (err) {
      client.close();
      lean.close();
      this.client = undefined;
      this.lean = undefined;
      this.state = 'closed';
      throw toLucienError(err);
    }
  }

  /** etcd3 options every client of this backend shares (the main one adds its member gates). */
  private clientOptions(): Omit<IOptions, 'hosts'> {
    return {
      dialTimeout: this.failover.attemptTimeoutMs,
      // Retries are ours (withFailover), where we know what is safe to repeat.
      faultHandling: { global: TRY_ONCE, watchBackoff: watchBackoff(200) },
      grpcOptions: { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 },
    };
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closing';
    this.closing = (async () => {
      await Promise.allSettled([...this.inflight]);
      this.feed.stop();
      this.client?.close();
      this.lean?.close();
      this.client = undefined;
      this.lean = undefined;
      this.state = 'closed';
      this.closing = undefined;
    })();
    return this.closing;
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return (await this.latest()).revision;
  }

  /** One read-only Txn (the record and its rebirth mark at one revision): one round trip. */
  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const [kv, rebirth] = await this.retrying((deadline) =>
      readKeys(this.kv(), [this.layout.data(key), this.layout.rebirth(key)], { deadline }),
    );
    return kv === undefined ? undefined : this.layout.keyValue(kv, false, rebirth);
  }

  /** The marker's Range; with `firstRead` (up to 49 keys), one Txn that also reads them: one round trip either way. */
  async snapshot(firstRead: readonly string[] = []): Promise<Snapshot> {
    this.assertOpen();
    let latest: Latest;
    if (firstRead.length > 0 && firstRead.length <= FIRST_READ_KEYS) {
      latest = await this.retrying((deadline) => readLatest(this.kv(), this.layout, firstRead, deadline));
    } else {
      const { marker, header } = await this.latest();
      latest = { marker, header, found: new Map() };
    }
    const { marker, header, found } = latest;
    const revision = marker > 0 ? marker : header;
    const via = <T>(fn: (kv: EtcdKv, deadline: number) => Promise<T>): Promise<T> => {
      this.assertOpen();
      return withFailover(this.failover, (deadline) => fn(this.kv(), deadline));
    };
    return etcdSnapshot(this.layout, revision, header, via, found);
  }

  async scan(prefix: string, options: ScanOptions): Promise<KeyValue[]> {
    const snapshot = await this.snapshot();
    try {
      return await snapshot.scan(prefix, options);
    } finally {
      await snapshot.release();
    }
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
    // A replay stalls for 2 attempt timeouts before another member is tried: responses can be large.
    return this.retrying(() =>
      readHistory(this.etcd(), this.layout, after, marker, limit, 2 * this.failover.attemptTimeoutMs),
    );
  }

  subscribe(listener: (changes: readonly Change[]) => void, onLoss?: (resumesAfter?: number) => void): () => void {
    return this.feed.subscribe(listener, onLoss);
  }

  private async apply(mutations: readonly Mutation[], conditions: readonly Condition[]): Promise<CommitResult> {
    const result = await this.committer.apply(this.kv(), mutations, conditions);
    this.feed.saw(result.revision);
    if (++this.commitsSinceMaintenance >= this.maintenanceEvery) {
      this.commitsSinceMaintenance = 0;
      void this.track(() => this.maintain()).catch(() => undefined);
    }
    return result;
  }

  /** Finds tombstones for the next commit to trim, and compacts etcd to the history window (etcd-maintenance.ts). */
  private async maintain(): Promise<void> {
    const floor = (await this.latest()).marker - this.historyRevisions;
    const retrying: Retrying = (fn) => this.retrying(fn);
    const upkeep = await maintainHistory(this.etcd(), this.layout, retrying, floor, {
      enabled: this.compact,
      compactedTo: this.compactedTo,
    });
    if (upkeep === undefined) return;
    this.committer.trims = upkeep.trims;
    this.compactedTo = upkeep.compactedTo;
  }

  /**
   * marker: the latest Lucien commit (0 before the first); header: etcd's
   * revision now; revision: what the Backend calls current, the marker, or
   * for a namespace without commits yet etcd's revision (so that its first
   * commit follows it as in any store, and it never goes backwards).
   */
  private async latest(): Promise<{ revision: number; marker: number; header: number }> {
    try {
      const res = await withFailover(this.failover, (deadline) =>
        this.kv().range({ key: this.layout.meta, keys_only: true }, { deadline }),
      );
      const marker = Number(res.kvs[0]?.mod_revision ?? 0);
      const header = Number(res.header.revision);
      return { revision: marker > 0 ? marker : header, marker, header };
    } catch (err) {
      throw toLucienError(err);
    }
  }

  /** A read (never a commit) retried on other members within the failover window; errors become LucienErrors. */
  private async retrying<T>(fn: (deadline: number) => Promise<T>): Promise<T> {
    try {
      return await withFailover(this.failover, fn);
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

  private kv(): EtcdKv {
    if (this.lean === undefined) throw new LucienError('UNAVAILABLE', `etcd backend is ${this.state}`);
    return this.lean;
  }

  private etcd(): Etcd3 {
    if (this.client === undefined) throw new LucienError('UNAVAILABLE', `etcd backend is ${this.state}`);
    return this.client;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new LucienError('UNAVAILABLE', `etcd backend is ${this.state}`);
  }
}
