/**
 * The etcd backend's batched point reads (chunked under etcd's --max-txn-ops)
 * and the one translation of etcd3 errors into LucienErrors. It must never
 * write to etcd.
 */
import type { Etcd3, IKeyValue, IRequestOp } from 'etcd3';
import { LucienError, isLucienError } from '../errors';

/** Range ops per read-only Txn: below etcd's default --max-txn-ops (128). */
const READS_PER_TXN = 100;

/** The current record of each key (or at `revision`), undefined when absent; one Txn per chunk. */
export async function readKeys(
  client: Etcd3,
  keys: readonly Buffer[],
  options: { readonly revision?: number; readonly keysOnly?: boolean } = {},
): Promise<(IKeyValue | undefined)[]> {
  const chunks: Promise<(IKeyValue | undefined)[]>[] = [];
  for (let i = 0; i < keys.length; i += READS_PER_TXN) {
    const success: IRequestOp[] = keys.slice(i, i + READS_PER_TXN).map((key) => ({
      request_range: { key, revision: options.revision ?? 0, keys_only: options.keysOnly ?? false },
    }));
    chunks.push(client.kv.txn({ compare: [], success, failure: [] }).then((res) => res.responses.map((r) => r.response_range?.kvs[0])));
  }
  return (await Promise.all(chunks)).flat();
}

export function isCompacted(err: unknown): boolean {
  return err instanceof Error && /required revision has been compacted/.test(err.message);
}

/**
 * etcd3 and gRPC errors become LucienErrors once, here: compaction is
 * COMPACTED; everything else is UNAVAILABLE (etcd unreachable, no leader,
 * a request over etcd's limits), with etcd's own message kept for the log.
 */
export function toLucienError(err: unknown): LucienError {
  if (isLucienError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isCompacted(err)) return new LucienError('COMPACTED', `etcd: ${message}`);
  return new LucienError('UNAVAILABLE', `etcd: ${message}`);
}
