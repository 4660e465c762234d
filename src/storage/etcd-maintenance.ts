/**
 * History upkeep on etcd, which a server runs every maintenanceEvery of its
 * commits: it finds the tombstones below the history window, for the next
 * commit to trim (a trim alone would spend a revision), and compacts etcd to
 * the window's floor. Several servers may do it at once; compacting below
 * what another server compacted is not an error.
 * This file must never write keys: trims ride on commits (etcd-apply.ts).
 */
import type { Etcd3 } from 'etcd3';
import type { Trim } from './etcd-commit';
import { isCompacted } from './etcd-io';
import type { EtcdLayout } from './etcd-layout';

/** Old tombstones found per maintenance round. */
const TRIM_BATCH = 100;

/** A read or compaction retried on other members within the failover window. */
export type Retrying = <T>(fn: (deadline: number) => Promise<T>) => Promise<T>;

export interface Upkeep {
  /** Tombstones below the window, oldest first, for the next commit to trim. */
  readonly trims: Trim[];
  /** The revision etcd is now compacted to, as far as this server knows. */
  readonly compactedTo: number;
}

/**
 * Upkeep for a window whose floor is `floor` (the latest commit's revision
 * minus the history window): `undefined` when there is no history below it yet.
 */
export async function maintainHistory(
  client: Etcd3,
  layout: EtcdLayout,
  retrying: Retrying,
  floor: number,
  compact: { enabled: boolean; compactedTo: number },
): Promise<Upkeep | undefined> {
  if (floor <= 0) return undefined;
  const old = await retrying((deadline) =>
    client.kv.range(
      { ...layout.tombstoneRange(''), keys_only: true, max_mod_revision: floor, limit: TRIM_BATCH },
      { deadline },
    ),
  );
  const trims = old.kvs.flatMap((kv) => {
    const key = layout.decode(kv.key)?.key;
    return key === undefined ? [] : [{ key, modRevision: Number(kv.mod_revision) }];
  });
  if (!compact.enabled || floor <= compact.compactedTo) return { trims, compactedTo: compact.compactedTo };
  try {
    await retrying((deadline) => client.kv.compact({ revision: floor }, { deadline }));
  } catch (err) {
    if (!isCompacted(err)) throw err; // another server compacted further already
  }
  return { trims, compactedTo: floor };
}
