/**
 * etcd's KV service (etcdserverpb.KV, v3 API) over the lean gRPC client:
 * Range, Put and Txn, hand-encoded. RangeRequest {key=1, range_end=2, limit=3};
 * PutRequest {key=1, value=2}; RangeResponse {header=1, repeated kvs=2,
 * more=3, count=4}, KeyValue {key=1, create_revision=2, mod_revision=3, …,
 * value=5}; TxnRequest {compare=1, success=2}, Compare {result=1 (EQUAL=0),
 * target=2 (MOD=2), key=3, mod_revision=6}, RequestOp {request_put=2};
 * TxnResponse {header=1, succeeded=2}.
 */
import { LeanGrpc } from './grpc-lean';
import { encode, walk } from './wire';

export class EtcdLean {
  private constructor(readonly rpc: LeanGrpc) {}

  static async connect(address: string): Promise<EtcdLean> {
    return new EtcdLean(await LeanGrpc.connect(address));
  }

  /** Resolves with the number of key-values returned. */
  async rangeEncoded(request: Buffer): Promise<number> {
    let kvs = 0;
    walk(await this.rpc.unary('/etcdserverpb.KV/Range', request), (field) => {
      if (field === 2) kvs++;
    });
    return kvs;
  }

  /** The value of one key, or undefined. */
  async get(key: string): Promise<string | undefined> {
    let value: string | undefined;
    walk(await this.rpc.unary('/etcdserverpb.KV/Range', encodeRange(key)), (field, kv) => {
      if (field === 2 && typeof kv !== 'number') {
        walk(kv, (f, v) => {
          if (f === 5 && typeof v !== 'number') value = v.toString('utf8');
        });
      }
    });
    return value;
  }

  /** The value and mod_revision of one key (mod_revision 0 when absent). */
  async read(key: Buffer): Promise<{ value: string | undefined; modRevision: number }> {
    let value: string | undefined;
    let modRevision = 0;
    walk(await this.rpc.unary('/etcdserverpb.KV/Range', encode([[1, key]])), (field, kv) => {
      if (field !== 2 || typeof kv === 'number') return;
      walk(kv, (f, v) => {
        if (f === 3 && typeof v === 'number') modRevision = v;
        if (f === 5 && typeof v !== 'number') value = v.toString('utf8');
      });
    });
    return { value, modRevision };
  }

  /**
   * A client-side read-modify-write, as an etcd user would write an
   * increment: Range, then a Txn that puts n + 1 if mod_revision is still the
   * one read; again on a lost race. The key must exist (proto3 cannot send a
   * compare against mod_revision 0). Resolves with the new n.
   */
  async increment(key: Buffer): Promise<number> {
    for (;;) {
      const { value, modRevision } = await this.read(key);
      const n = (JSON.parse(value ?? '{"n":0}') as { n: number }).n + 1;
      const compare = encode([
        [2, 2],
        [3, key],
        [6, modRevision],
      ]);
      const put = encode([
        [
          2,
          encode([
            [1, key],
            [2, Buffer.from(JSON.stringify({ n }))],
          ]),
        ],
      ]);
      const txn = encode([
        [1, compare],
        [2, put],
      ]);
      let succeeded = false;
      walk(await this.rpc.unary('/etcdserverpb.KV/Txn', txn), (f, v) => {
        if (f === 2 && v === 1) succeeded = true;
      });
      if (succeeded) return n;
    }
  }

  async putEncoded(request: Buffer): Promise<void> {
    await this.rpc.unary('/etcdserverpb.KV/Put', request);
  }

  close(): void {
    this.rpc.close();
  }
}

export const encodeRange = (key: string): Buffer => encode([[1, Buffer.from(key)]]);
/** All keys under `prefix` (range_end = prefix with its last byte + 1), at most `limit`. */
export function encodeRangePrefix(prefix: string, limit: number): Buffer {
  const start = Buffer.from(prefix);
  const end = Buffer.from(start);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return encode([
    [1, start],
    [2, end],
    [3, limit],
  ]);
}
export const encodeEtcdPut = (key: string, value: string): Buffer =>
  encode([
    [1, Buffer.from(key)],
    [2, Buffer.from(value)],
  ]);
