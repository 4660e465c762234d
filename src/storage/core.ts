/**
 * BackendCore: the rules every in-process backend shares, written once in
 * front of the hooks each backend fills in (abstract-level's public-method /
 * `_hook` split). The core owns the lifecycle (open and close serialized,
 * both safe twice, close waiting for queued commits), refuses every call
 * unless open, guards snapshots (reads after release reject), and owns the
 * commit: it queues commits in a group commit, checks their conditions,
 * folds their mutations into changes and net writes, numbers revisions, and
 * tells subscribers once a group is durable. A backend only reads and
 * writes: a hook must never check a condition, number a revision or touch
 * the lifecycle. The rules themselves (what a condition means, its errors,
 * how mutations fold) are pure functions in rules.ts, which etcd shares.
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
import { GroupCommit, type Queued } from './group-commit';
import { type Listener, Listeners } from './listeners';
import { compacted, conditionFailed, fold, keyConditionHolds } from './rules';

/** What a backend's snapshot hook returns: reads at one revision. The core guards every call. */
export interface SnapshotReader {
  readonly revision: number;
  getMany(keys: readonly string[]): (KeyValue | undefined)[];
  /** Called with limit > 0. */
  scan(prefix: string, options: ScanOptions): KeyValue[] | Promise<KeyValue[]>;
  /** Called once. */
  release(): void | Promise<void>;
}

/** A key's state after a written group: its new version, or undefined once deleted at `revision`. */
export interface Written {
  readonly revision: number;
  readonly kv: KeyValue | undefined;
}

/** One group of commits to make durable atomically, as the core checked and numbered them. */
export interface WriteBatch {
  /** The revision of the last commit in the group (the store's revision once written). */
  readonly revision: number;
  /** Each commit that changed something, in order, with its changes. */
  readonly commits: readonly { readonly revision: number; readonly changes: readonly Change[] }[];
  /** Net state of every key the group touched. */
  readonly writes: ReadonlyMap<string, Written>;
}

interface Commit {
  readonly mutations: readonly Mutation[];
  readonly conditions: readonly Condition[];
}

/** Commits queued together while a group is written go into the next group, up to this many. */
const MAX_GROUP = 64;

export abstract class BackendCore implements Backend {
  abstract readonly supports: Capabilities;
  /** The revision of the latest durable commit; moves only when a group is written. */
  protected revision = 0;
  private state: LifecycleStatus = 'closed';
  private transition: Promise<void> = Promise.resolve();
  private readonly commits = new GroupCommit<Commit, CommitResult>((group) => this.applyGroup(group), MAX_GROUP, true);
  private readonly listeners = new Listeners();

  /** `name` appears in errors: "<name> backend is closed". */
  constructor(private readonly name: string) {}

  /** Opens the store and sets `revision` to its latest commit. */
  protected abstract _open(): Promise<void>;
  /** Called once no commit is queued; snapshots still open may be closed here. */
  protected abstract _close(): Promise<void>;
  /** The latest committed version of a key (embedded reads are synchronous). */
  protected abstract _get(key: string): KeyValue | undefined;
  protected abstract _snapshot(): SnapshotReader | Promise<SnapshotReader>;
  /** A scan of the latest state (called with limit > 0); by default through a snapshot of its own. */
  protected async _scan(prefix: string, options: ScanOptions): Promise<readonly KeyValue[]> {
    const reader = await this._snapshot();
    try {
      return await reader.scan(prefix, options);
    } finally {
      await reader.release();
    }
  }
  /** The oldest revision whose changes are retained. */
  protected abstract _oldestRetained(): number;
  /** Called with oldest - 1 <= after < revision and limit > 0; whole commits. */
  protected abstract _changesSince(after: number, limit: number): Change[] | Promise<Change[]>;
  /** A key under `prefix` changed by a durable commit after `after` (oldest - 1 <= after < revision), if any. */
  protected abstract _changedUnder(prefix: string, after: number): string | undefined | Promise<string | undefined>;
  /**
   * Makes a group durable, all or nothing; readers must see all of it or
   * none. A synchronous write returns nothing; the core moves `revision` to
   * batch.revision right after the write.
   */
  protected abstract _write(batch: WriteBatch): void | Promise<void>;

  get status(): LifecycleStatus {
    return this.state;
  }

  open(): Promise<void> {
    const opening = this.transition.then(async () => {
      if (this.state === 'open') return;
      this.state = 'opening';
      try {
        await this._open();
        this.state = 'open';
      } catch (err) {
        this.state = 'closed';
        throw err;
      }
    });
    // A failed open fails its caller only: the next open or close starts afresh.
    this.transition = opening.catch(() => undefined);
    return opening;
  }

  close(): Promise<void> {
    const closing = this.transition.then(async () => {
      if (this.state === 'closed') return;
      this.state = 'closing';
      await this.commits.idle();
      await this._close();
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
    return this._get(key);
  }

  async snapshot(): Promise<Snapshot> {
    this.assertOpen();
    const reader = await this._snapshot();
    let released = false;
    const check = (): void => {
      this.assertOpen();
      if (released) throw new LucienError('INTERNAL', 'snapshot used after release');
    };
    const sync = this.supports.getManySync;
    const getManySync = (keys: readonly string[]): (KeyValue | undefined)[] => {
      if (!sync) throw new LucienError('INTERNAL', `the ${this.name} backend has no synchronous reads`);
      check();
      return reader.getMany(keys);
    };
    return {
      revision: reader.revision,
      get: async (key) => {
        check();
        return reader.getMany([key])[0];
      },
      getMany: async (keys) => {
        check();
        return reader.getMany(keys);
      },
      getManySync,
      scan: async (prefix, options) => {
        check();
        return options.limit <= 0 ? [] : reader.scan(prefix, options);
      },
      release: async () => {
        if (released) return;
        released = true;
        await reader.release();
      },
    };
  }

  async scan(prefix: string, options: ScanOptions): Promise<readonly KeyValue[]> {
    this.assertOpen();
    return options.limit <= 0 ? [] : this._scan(prefix, options);
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
    return this._oldestRetained();
  }

  async changesSince(after: number, limit: number): Promise<Change[]> {
    this.assertOpen();
    if (after < this._oldestRetained() - 1) throw compacted(after);
    if (limit <= 0 || after >= this.revision) return [];
    return this._changesSince(after, limit);
  }

  subscribe(listener: Listener): () => void {
    return this.listeners.add(listener);
  }

  protected assertOpen(): void {
    if (this.state !== 'open') throw new LucienError('UNAVAILABLE', `${this.name} backend is ${this.state}`);
  }

  /**
   * Checks each commit of a group in order against the state the commits
   * before it leave (its key conditions, and its prefix guards against their
   * changes too), gives it the next revision if it changes anything, writes
   * the group as one batch, and settles each commit once the batch is
   * durable. A commit whose conditions fail is refused alone; a failed write
   * fails every commit it carried. The revision moves only after the write.
   */
  private async applyGroup(group: readonly Queued<Commit, CommitResult>[]): Promise<void> {
    const writes = new Map<string, Written>();
    const current = (key: string): KeyValue | undefined => {
      const written = writes.get(key);
      return written === undefined ? this._get(key) : written.kv;
    };
    /** Changes of the commits accepted so far in this group (not yet in the history). */
    const inGroup: Change[] = [];
    const accepted: { queued: Queued<Commit, CommitResult>; result: CommitResult }[] = [];
    const commits: { revision: number; changes: Change[] }[] = [];
    let last = this.revision;

    for (const queued of group) {
      const { mutations, conditions } = queued.input;
      try {
        for (const condition of conditions) await this.check(condition, current, inGroup);
      } catch (err) {
        queued.reject(err);
        continue;
      }
      const next = last + 1;
      const { applied, changes, pending } = fold(mutations, next, current);
      if (changes.length > 0) {
        for (const [key, kv] of pending) writes.set(key, { revision: next, kv });
        inGroup.push(...changes);
        commits.push({ revision: next, changes });
        last = next;
      }
      // A commit that changed nothing reports the revision it saw, as if applied alone.
      accepted.push({ queued, result: { revision: last, applied } });
    }

    if (commits.length > 0) {
      try {
        // A synchronous write and the revision move in one tick: no reader sees one without the other.
        const writing = this._write({ revision: last, commits, writes });
        if (writing !== undefined) await writing;
      } catch (err) {
        for (const { queued } of accepted) queued.reject(err);
        return;
      }
      this.revision = last;
      for (const { changes } of commits) this.listeners.emit(changes);
    }
    for (const { queued, result } of accepted) queued.resolve(result);
  }

  /** `current`: the latest state including earlier commits of the group; `inGroup`: their changes. */
  private async check(
    condition: Condition,
    current: (key: string) => KeyValue | undefined,
    inGroup: readonly Change[],
  ): Promise<void> {
    if (condition.type === 'key') {
      if (!keyConditionHolds(condition.modRevision, current(condition.key))) throw conditionFailed.key(condition.key);
      return;
    }
    // Older than the retained history: we cannot prove nothing changed, so fail.
    if (condition.revision < this._oldestRetained() - 1) throw conditionFailed.tooOld(condition.prefix);
    const early = inGroup.find((c) => c.revision > condition.revision && c.key.startsWith(condition.prefix));
    const hit =
      early?.key ??
      (condition.revision >= this.revision
        ? undefined
        : await this._changedUnder(condition.prefix, condition.revision));
    if (hit !== undefined) throw conditionFailed.changed(hit);
  }
}
