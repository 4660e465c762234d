/**
 * A Snapshot of the etcd backend: reads at one etcd revision (the header
 * revision seen when it was taken), through the backend's failover (`via`
 * runs a read on a member with a deadline, retried on others). A data record
 * is read together with its rebirth mark (etcd-layout.ts). A snapshot taken
 * with its first reads (readLatest) answers them from that same Txn, which
 * also gave it its revision. It must never write to etcd.
 */
import { LucienError } from '../errors';
import type { IRequestOp } from 'etcd3';
import type { KeyValue, Snapshot } from './backend';
import { compareBytewise } from './bytewise';
import { isCompacted, readKeys, toLucienError } from './etcd-io';
import type { EtcdKv } from './etcd-kv';
import type { EtcdLayout } from './etcd-layout';

export type ReadVia = <T>(fn: (client: EtcdKv, deadline: number) => Promise<T>) => Promise<T>;

/** Keys a snapshot may read with its revision: the marker and a record and mark per key fit one Txn of readKeys' size. */
export const FIRST_READ_KEYS = 49;

/** Where a snapshot stands: the marker (0 before any commit), etcd's revision, and the first reads' answers. */
export interface Latest {
  readonly marker: number;
  readonly header: number;
  readonly found: ReadonlyMap<string, KeyValue | undefined>;
}

/**
 * One read-only Txn at etcd's current revision: the marker (<ns>rev) and
 * each of `keys` (at most FIRST_READ_KEYS) beside its rebirth mark. All of it
 * is from the one revision the answer's header names.
 */
export async function readLatest(
  kv: EtcdKv,
  layout: EtcdLayout,
  keys: readonly string[],
  deadline: number,
): Promise<Latest> {
  const success: IRequestOp[] = [{ request_range: { key: layout.meta, keys_only: true } }];
  for (const key of keys) {
    success.push({ request_range: { key: layout.data(key) } }, { request_range: { key: layout.rebirth(key) } });
  }
  const res = await kv.txn({ compare: [], success, failure: [] }, { deadline });
  const kvs = res.responses.map((r) => r.response_range?.kvs[0]);
  const found = new Map<string, KeyValue | undefined>();
  keys.forEach((key, i) => {
    const record = kvs[1 + 2 * i];
    found.set(key, record === undefined ? undefined : layout.keyValue(record, false, kvs[2 + 2 * i]));
  });
  return { marker: Number(kvs[0]?.mod_revision ?? 0), header: Number(res.header.revision), found };
}

export function etcdSnapshot(
  layout: EtcdLayout,
  revision: number,
  header: number,
  via: ReadVia,
  found: ReadonlyMap<string, KeyValue | undefined> = new Map(),
): Snapshot {
  let released = false;
  const read = async <T>(fn: (client: EtcdKv, deadline: number) => Promise<T>): Promise<T> => {
    if (released) throw new LucienError('INTERNAL', 'snapshot used after release');
    try {
      return await via(fn);
    } catch (err) {
      if (isCompacted(err)) {
        throw new LucienError(
          'UNAVAILABLE',
          `snapshot at revision ${revision} is older than etcd's compaction; take a new one`,
        );
      }
      throw toLucienError(err);
    }
  };
  const getMany = (keys: readonly string[]): Promise<(KeyValue | undefined)[]> => {
    // Keys read with the revision: answered from that Txn (same revision, so the same answer).
    if (found.size > 0 && keys.every((key) => found.has(key))) {
      if (released) return Promise.reject(new LucienError('INTERNAL', 'snapshot used after release'));
      return Promise.resolve(keys.map((key) => found.get(key)));
    }
    return read(async (client, deadline) => {
      // Each record beside its rebirth mark (whose value is empty), in one Txn per chunk.
      const records = keys.flatMap((k) => [layout.data(k), layout.rebirth(k)]);
      const kvs = await readKeys(client, records, { revision: header, deadline });
      return keys.map((_, i) => {
        const kv = kvs[2 * i];
        return kv === undefined ? undefined : layout.keyValue(kv, false, kvs[2 * i + 1]);
      });
    });
  };
  return {
    revision,
    get: async (key) => (await getMany([key]))[0],
    getMany,
    getManySync: () => {
      throw new LucienError('INTERNAL', 'the etcd backend has no synchronous reads');
    },
    scan: (prefix, options) =>
      read(async (client, deadline) => {
        if (options.limit <= 0) return [];
        const { after } = options;
        // after + NUL is the smallest key bytewise greater than after.
        const start = after !== undefined && compareBytewise(after, prefix) >= 0 ? `${after}\0` : prefix;
        const keysOnly = options.keysOnly === true;
        const page = { limit: options.limit, revision: header };
        // Rebirth marks exist only beside data records, so the same bounds and
        // limit cover every mark the page of data needs (and they are rare).
        const [data, marks] = await Promise.all([
          client.range(
            { key: layout.data(start), range_end: layout.dataRange(prefix).range_end, keys_only: keysOnly, ...page },
            { deadline },
          ),
          client.range(
            { key: layout.rebirth(start), range_end: layout.rebirthRange(prefix).range_end, keys_only: true, ...page },
            { deadline },
          ),
        ]);
        const reborn = new Map(marks.kvs.map((kv) => [layout.decode(kv.key)?.key, kv]));
        return data.kvs.map((kv) => layout.keyValue(kv, keysOnly, reborn.get(layout.decode(kv.key)?.key)));
      }),
    release: async () => {
      released = true;
    },
  };
}
