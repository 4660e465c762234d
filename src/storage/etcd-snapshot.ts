/**
 * A Snapshot of the etcd backend: reads at one etcd revision (the header
 * revision seen when it was taken), through the backend's failover (`via`
 * runs a read on a member with a deadline, retried on others). A data record
 * is read together with its rebirth mark (etcd-layout.ts). It must never
 * write to etcd.
 */
import { LucienError } from '../errors';
import type { KeyValue, Snapshot } from './backend';
import { compareBytewise } from './bytewise';
import { isCompacted, readKeys, toLucienError } from './etcd-io';
import type { EtcdKv } from './etcd-kv';
import type { EtcdLayout } from './etcd-layout';

export type ReadVia = <T>(fn: (client: EtcdKv, deadline: number) => Promise<T>) => Promise<T>;

export function etcdSnapshot(layout: EtcdLayout, revision: number, header: number, via: ReadVia): Snapshot {
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
  const getMany = (keys: readonly string[]): Promise<(KeyValue | undefined)[]> =>
    read(async (client, deadline) => {
      // Each record beside its rebirth mark (whose value is empty), in one Txn per chunk.
      const records = keys.flatMap((k) => [layout.data(k), layout.rebirth(k)]);
      const found = await readKeys(client, records, { revision: header, deadline });
      return keys.map((_, i) => {
        const kv = found[2 * i];
        return kv === undefined ? undefined : layout.keyValue(kv, false, found[2 * i + 1]);
      });
    });
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
