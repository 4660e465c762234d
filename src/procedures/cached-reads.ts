/**
 * Recording the read set a host answered from its read cache (its done
 * message, unchecked) into a run's transaction, as if those reads had crossed
 * the bridge: each key with the revision seen, each listed prefix, so the
 * commit is guarded by them too. Everything in the set is checked here: a
 * malformed set is the host breaking the protocol, and the run fails and
 * writes nothing. Must never record a key under a bucket the store would not
 * let a script read, nor a revision past the run's snapshot.
 */
import { LucienError } from '../errors';
import type { Store } from '../storage/store';
import type { PerKey } from './per-key';

/** Script calls an engine host answered itself (from its read cache), by op. */
export interface CachedCalls {
  readonly get: number;
  readonly getMany: number;
  readonly list: number;
}

/**
 * Records `cached` into `reads` and `listed` (`revision`: the run's snapshot,
 * undefined if none was open); returns the script calls the host answered itself.
 */
export function recordCachedReads(
  cached: unknown,
  revision: number | undefined,
  store: Store,
  reads: PerKey<number>,
  listed: PerKey<true>,
): CachedCalls {
  const none = { get: 0, getMany: 0, list: 0 };
  if (cached === undefined) return none;
  const bad = (what: string): LucienError =>
    new LucienError('INTERNAL', `engine host sent a malformed read set: ${what}`);
  const set = cached as { keys?: unknown; prefixes?: unknown; calls?: Record<string, unknown> };
  if (typeof set !== 'object' || set === null || !Array.isArray(set.keys) || !Array.isArray(set.prefixes))
    throw bad('expected keys and prefixes');
  const count = (v: unknown): number => {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw bad('bad call count');
    return v as number;
  };
  if (typeof set.calls !== 'object' || set.calls === null) throw bad('expected call counts');
  const calls = { get: count(set.calls.get), getMany: count(set.calls.getMany), list: count(set.calls.list) };
  if (revision === undefined) throw bad('no snapshot was open');
  /** The last bucket found readable: a read set names few buckets, each many times. */
  let readable: string | undefined;
  /** A cache name split as the host built it (bucket + '/' + key), the bucket readable; else undefined. */
  const named = (name: unknown): { bucket: string; key: string } | undefined => {
    if (typeof name !== 'string') return undefined;
    const at = name.indexOf('/');
    if (at <= 0) return undefined;
    const bucket = name.slice(0, at);
    if (bucket !== readable) {
      try {
        store.checkRead(bucket, []);
      } catch {
        return undefined;
      }
      readable = bucket;
    }
    return { bucket, key: name.slice(at + 1) };
  };
  for (const entry of set.keys as unknown[]) {
    const [name, modRevision] = Array.isArray(entry) ? (entry as unknown[]) : [];
    const ref = named(name);
    if (
      ref === undefined ||
      !Number.isSafeInteger(modRevision) ||
      (modRevision as number) < 0 ||
      (modRevision as number) > revision
    )
      throw bad('bad key entry');
    // The host recorded each key at its first read, before any write of the run to it: keep it even if written since.
    if (!reads.has(ref.bucket, ref.key)) reads.set(ref.bucket, ref.key, modRevision as number);
  }
  for (const prefix of set.prefixes as unknown[]) {
    const ref = named(prefix);
    if (ref === undefined) throw bad('bad prefix');
    listed.set(ref.bucket, ref.key, true);
  }
  return calls;
}
