/**
 * MemoryBackend: the whole Backend contract in process memory, for unit tests.
 * MVCC: each key keeps its versions, so a snapshot taken at revision R keeps
 * reading R while later commits happen; old versions are pruned once no open
 * snapshot can see them. Keys are kept sorted in UTF-8 byte order. Lifecycle,
 * conditions and revisions are the core's (core.ts); this file only reads
 * and writes versions. It must never be used where data has to survive the
 * process (supports.persistent is false), and it must never validate values:
 * that is the store's job.
 */
import type { Capabilities, Change, KeyValue, ScanOptions } from './backend';
import { compareBytewise, lowerBound } from './bytewise';
import { BackendCore, type SnapshotReader, type WriteBatch } from './core';

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

export class MemoryBackend extends BackendCore {
  readonly supports: Capabilities = {
    snapshots: true,
    history: true,
    remote: false,
    persistent: false,
    getManySync: true,
  };
  /** Every key that has at least one version, sorted bytewise. */
  private readonly keys: string[] = [];
  private readonly versions = new Map<string, Version[]>();
  /** One entry per revision, contiguous, oldest first. */
  private readonly history: Commit[] = [];
  private readonly historyRevisions: number;
  /** Revision → number of open snapshots at it; bounds version pruning. */
  private readonly pinned = new Map<number, number>();

  constructor(options: MemoryBackendOptions = {}) {
    super('memory');
    this.historyRevisions = Math.max(1, options.historyRevisions ?? 10000);
  }

  /** The data lives as long as this object: reopening finds it, and the revision, as they were. */
  protected async _open(): Promise<void> {}

  protected async _close(): Promise<void> {}

  protected _get(key: string): KeyValue | undefined {
    return this.read(key, this.revision);
  }

  protected _snapshot(): SnapshotReader {
    const revision = this.revision;
    this.pinned.set(revision, (this.pinned.get(revision) ?? 0) + 1);
    return {
      revision,
      getMany: (keys) => keys.map((key) => this.read(key, revision)),
      scan: (prefix, options) => this.scanAt(revision, prefix, options),
      release: () => {
        const n = (this.pinned.get(revision) ?? 1) - 1;
        if (n > 0) this.pinned.set(revision, n);
        else this.pinned.delete(revision);
      },
    };
  }

  protected _write(batch: WriteBatch): void {
    // Synchronous: the core moves the revision to batch.revision in the same tick.
    const oldestPinned = this.oldestPinned(batch.revision);
    for (const [key, { revision, kv }] of batch.writes) {
      this.addVersion(key, { revision, createRevision: kv?.createRevision ?? 0, value: kv?.value }, oldestPinned);
    }
    for (const commit of batch.commits) this.history.push(commit);
    if (this.history.length > this.historyRevisions)
      this.history.splice(0, this.history.length - this.historyRevisions);
  }

  protected _oldestRetained(): number {
    return this.history[0]?.revision ?? this.revision + 1;
  }

  protected _changesSince(after: number, limit: number): Change[] {
    const out: Change[] = [];
    const first = this.history[0];
    if (first === undefined) return out;
    // History revisions are contiguous, so the start is an index computation.
    for (let i = Math.max(0, after + 1 - first.revision); i < this.history.length && out.length < limit; i++) {
      out.push(...(this.history[i] as Commit).changes);
    }
    return out;
  }

  protected _changedUnder(prefix: string, after: number): string | undefined {
    for (const commit of this.history) {
      if (commit.revision <= after) continue;
      const hit = commit.changes.find((c) => c.key.startsWith(prefix));
      if (hit !== undefined) return hit.key;
    }
    return undefined;
  }

  private oldestPinned(revision: number): number {
    let min = revision;
    for (const revision of this.pinned.keys()) min = Math.min(min, revision);
    return min;
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
