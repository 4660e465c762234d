/**
 * The etcd backend's batched point reads (chunked under etcd's --max-txn-ops)
 * and the one translation of etcd3 errors into LucienErrors. It must never
 * write to etcd.
 */
import type { IOptions, IRequestOp } from 'etcd3';
import { LucienError, isLucienError } from '../errors';
import type { EtcdKv } from './etcd-kv';
import type { EtcdKeyValue } from './etcd-wire';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * etcd3's default global policy retries a call that failed with a network or
 * server error. A Txn that was applied before its answer was lost would then
 * run again: apply twice, or fail its own compares and be reported as
 * CONDITION_FAILED although it committed. So every call is tried once, and a
 * failure surfaces as UNAVAILABLE, whose outcome the caller knows is unknown.
 */
export const TRY_ONCE: Policy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
  execute: async (fn, signal) => fn({ signal: signal ?? new AbortController().signal }),
};

/** Range ops per read-only Txn: below etcd's default --max-txn-ops (128), and even (records travel beside their marks). */
const READS_PER_TXN = 100;

/** The current record of each key (or at `revision`), undefined when absent; one Txn per chunk. */
export async function readKeys(
  kv: EtcdKv,
  keys: readonly Buffer[],
  options: { readonly revision?: number; readonly keysOnly?: boolean; readonly deadline?: number } = {},
): Promise<(EtcdKeyValue | undefined)[]> {
  const call = options.deadline === undefined ? undefined : { deadline: options.deadline };
  const chunks: Promise<(EtcdKeyValue | undefined)[]>[] = [];
  for (let i = 0; i < keys.length; i += READS_PER_TXN) {
    const success: IRequestOp[] = keys.slice(i, i + READS_PER_TXN).map((key) => ({
      request_range: { key, revision: options.revision ?? 0, keys_only: options.keysOnly ?? false },
    }));
    chunks.push(
      kv
        .txn({ compare: [], success, failure: [] }, call)
        .then((res) => res.responses.map((r) => r.response_range?.kvs[0])),
    );
  }
  return (await Promise.all(chunks)).flat();
}

export function isCompacted(err: unknown): boolean {
  return err instanceof Error && /required revision has been compacted/.test(err.message);
}

/**
 * etcd3 and gRPC errors become LucienErrors once, here: compaction is
 * COMPACTED; a request over etcd's own limits is INVALID_ARGUMENT (retrying
 * cannot help: the commit must shrink, or etcd's limit grow); everything else
 * is UNAVAILABLE (etcd unreachable, no leader), with etcd's own message kept.
 */
export function toLucienError(err: unknown): LucienError {
  if (isLucienError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isCompacted(err)) return new LucienError('COMPACTED', `etcd: ${message}`);
  if (/too many operations in txn request/.test(message)) {
    return new LucienError(
      'INVALID_ARGUMENT',
      `this commit needs more operations than etcd allows in one transaction (its --max-txn-ops: by default 128 writes and 128 compares; a put is 1 write, a delete 2–3, a key read by a run 1 compare, a listed prefix 3): write fewer keys per batch or run, or raise the limit (etcd: ${message})`,
    );
  }
  if (/request is too large|received message larger than max/.test(message)) {
    return new LucienError(
      'INVALID_ARGUMENT',
      `this commit is larger than etcd accepts in one request (its --max-request-bytes, 1.5 MiB by default): write less per batch or run, or raise the limit (etcd: ${message})`,
    );
  }
  return new LucienError('UNAVAILABLE', `etcd: ${message}`);
}
