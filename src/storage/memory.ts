/**
 * MemoryBackend: the whole Backend contract in process memory, for unit tests.
 * MVCC: each key keeps its versions, so a snapshot taken at revision R keeps
 * reading R while later commits happen; old versions are pruned once no open
 * snapshot can see them. Keys are kept sorted in UTF-8 byte order. It must
 * never be used where data has to survive the process (supports.persistent is
 * false), and it must never validate values: that is the store's job.
 */
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
import { compareBytewise, lowerBound } from './bytewise';

export interface MemoryBackendOptions {
  /** How many past revisions stay available to changesSince / prefix guards (default 10000). */
  readonly historyRevisions?: number;
}

/** One version of a key; `value` undefined is a tombstone (the key was deleted at `revision`). */
interface Version {
  readonly revision: number;
  readonly createRevision: number;
  readonly value: string | undefined;
}

interface Commit {
  readonly revision: number;
  readonly changes: readonly Change[];
}


export class MemoryBackend implements Backend {
  readonly supports: Capabilities = { snapshots: true, history: true, remote: false, persistent: false };
  private state: LifecycleStatus = 'closed';
  private revision = 0;
  /** Every key that has at least one version, sorted bytewise. */
  private readonly keys: string[] = [];
  private readonly versions = new Map<string, Version[]>();
  /** One entry per revision, contiguous, oldest first. */
  private readonly history: Commit[] = [];
  private readonly historyRevisions: number;
  private readonly listeners = new Listeners();
  /** Revision → number of open snapshots at it; bounds version pruning. */
  private readonly pinned = new Map<number, number>();

  constructor(options: MemoryBackendOptions = {}) {
    this.historyRevisions = Math.max(1, options.historyRevisions ?? 10000);
  }

  get status(): LifecycleStatus {
    return this.state;
  }

  async open(): Promise<void> {
    this.state = 'open';
  }

  async close(): Promise<void> {
    // Commits run synchronously to completion, so none can be in flight here.
    this.state = 'closed';
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.revision;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    return this.read(key, this.revision);
  }

  async snapshot(): Promise<Snapshot> {
    this.assertOpen();
    const revision = this.revision;
    this.pinned.set(revision, (this.pinned.get(revision) ?? 0) + 1);
    let released = false;
    const check = (): void => {
      this.assertOpen();
      if (released) throw new LucienError('INTERNAL', 'snapshot used after release');
    };
    return {
      revision,
      get: async (key) => {
        check();
        return this.read(key, revision);
      },
      getMany: async (keys) => {
        check();
        return keys.map((key) => this.read(key, revision));
      },
      getManySync: (keys) => {
        check();
        return keys.map((key) => this.read(key, revision));
      },
      scan: async (prefix, options) => {
        check();
        return this.scanAt(revision, prefix, options);
      },
      release: async () => {
        if (released) return;
        released = true;
        const n = (this.pinned.get(revision) ?? 1) - 1;
        if (n > 0) this.pinned.set(revision, n);
        else this.pinned.delete(revision);
      },
    };
  }

  async commit(mutations: readonly Mutation[], conditions: readonly Condition[] = []): Promise<CommitResult> {
    this.assertOpen();
    // Everything below is synchronous, so the commit is atomic with respect to
    // every other call without a lock.
    for (const condition of conditions) this.checkCondition(condition);

    const next = this.revision + 1;
    const pending = new Map<string, Version>();
    const changes: Change[] = [];
    const applied = mutations.map((m) => {
      const existing = pending.has(m.key) ? pending.get(m.key) : this.latest(m.key);
      const live = existing !== undefined && existing.value !== undefined;
      if (m.type === 'put') {
        const createRevision = live ? existing.createRevision : next;
        pending.set(m.key, { revision: next, createRevision, value: m.value });
        changes.push({ type: 'put', key: m.key, value: m.value, revision: next });
        return true;
      }
      if (!live) return false;
      pending.set(m.key, { revision: next, createRevision: existing.createRevision, value: undefined });
      changes.push({ type: 'delete', key: m.key, value: '', revision: next });
      return true;
    });
    if (changes.length === 0) return { revision: this.revision, applied };

    this.revision = next;
    const oldestPinned = this.oldestPinned();
    for (const [key, version] of pending) this.addVersion(key, version, oldestPinned);
    this.history.push({ revision: next, changes });
    if (this.history.length > this.historyRevisions) this.history.shift();
    this.listeners.emit(changes);
    return { revision: next, applied };
  }

  async oldestRetainedRevision(): Promise<number> {
    this.assertOpen();
    return this.oldestRetained();
  }

  async changesSince(after: number, limit: number): Promise<Change[]> {
    this.assertOpen();
    if (after < this.oldestRetained() - 1) {
      throw new LucienError('COMPACTED', `revision ${after + 1} is older than the retained history`);
    }
    const out: Change[] = [];
    const first = this.history[0];
    if (first === undefined) return out;
    // History revisions are contiguous, so the start is an index computation.
    for (let i = Math.max(0, after + 1 - first.revision); i < this.history.length && out.length < limit; i++) {
      out.push(...(this.history[i] as Commit).changes);
    }
    return out;
  }

  subscribe(listener: Listener): () => void {
    return this.listeners.add(listener);
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new LucienError('UNAVAILABLE', `memory backend is ${this.state}`);
  }

  private oldestRetained(): number {
    return this.history[0]?.revision ?? this.revision + 1;
  }

  private oldestPinned(): number {
    let min = this.revision;
    for (const revision of this.pinned.keys()) min = Math.min(min, revision);
    return min;
  }

  private latest(key: string): Version | undefined {
    const versions = this.versions.get(key);
    return versions?.[versions.length - 1];
  }

  private read(key: string, revision: number): KeyValue | undefined {
    const versions = this.versions.get(key);
    if (versions === undefined) return undefined;
    for (let i = versions.length - 1; i >= 0; i--) {
      const v = versions[i] as Version;
      if (v.revision > revision) continue;
      if (v.value === undefined) return undefined;
      return { key, value: v.value, createRevision: v.createRevision, modRevision: v.revision };
    }
    return undefined;
  }

  private scanAt(revision: number, prefix: string, options: ScanOptions): KeyValue[] {
    const out: KeyValue[] = [];
    const { after } = options;
    const start =
      after !== undefined && compareBytewise(after, prefix) >= 0
        ? lowerBound(this.keys, after, false)
        : lowerBound(this.keys, prefix, true);
    for (let i = start; i < this.keys.length && out.length < options.limit; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) break;
      const kv = this.read(key, revision);
      if (kv !== undefined) out.push(options.keysOnly === true ? { ...kv, value: '' } : kv);
    }
    return out;
  }

  private checkCondition(condition: Condition): void {
    if (condition.type === 'key') {
      const current = this.read(condition.key, this.revision);
      const holds =
        condition.modRevision === 0 ? current === undefined : current?.modRevision === condition.modRevision;
      if (!holds) {
        throw new LucienError('CONDITION_FAILED', `condition on key failed`, { key: condition.key });
      }
      return;
    }
    if (condition.revision >= this.revision) return;
    // Older than the retained history: we cannot prove nothing changed, so fail.
    if (condition.revision < this.oldestRetained() - 1) {
      throw new LucienError('CONDITION_FAILED', 'prefix guard is older than the retained history', {
        key: condition.prefix,
      });
    }
    for (const commit of this.history) {
      if (commit.revision <= condition.revision) continue;
      const hit = commit.changes.find((c) => c.key.startsWith(condition.prefix));
      if (hit !== undefined) {
        throw new LucienError('CONDITION_FAILED', 'a key under the guarded prefix changed', { key: hit.key });
      }
    }
  }

  /**
   * Appends a version and drops the ones no snapshot can reach any more: all
   * but the newest at or below the oldest pinned revision. A key whose only
   * remaining version is an unreachable tombstone disappears entirely.
   */
  private addVersion(key: string, version: Version, oldestPinned: number): void {
    let versions = this.versions.get(key);
    if (versions === undefined) {
      versions = [];
      this.versions.set(key, versions);
      this.keys.splice(lowerBound(this.keys, key, true), 0, key);
    }
    versions.push(version);
    let keepFrom = 0;
    for (let i = versions.length - 1; i >= 0; i--) {
      if ((versions[i] as Version).revision <= oldestPinned) {
        keepFrom = i;
        break;
      }
    }
    if (keepFrom > 0) versions.splice(0, keepFrom);
    if (versions.length === 1 && versions[0]?.value === undefined && version.revision <= oldestPinned) {
      this.versions.delete(key);
      this.keys.splice(lowerBound(this.keys, key, true), 1);
    }
  }
}

