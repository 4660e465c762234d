/**
 * etcd's KV service (etcdserverpb.KV, v3 API) over the lean gRPC client:
 * Range and Put, hand-encoded. RangeRequest {key=1, range_end=2, limit=3};
 * PutRequest {key=1, value=2}; RangeResponse {header=1, repeated kvs=2,
 * more=3, count=4}, KeyValue {key=1, …, value=5}.
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
  return encode([[1, start], [2, end], [3, limit]]);
}
export const encodeEtcdPut = (key: string, value: string): Buffer => encode([[1, Buffer.from(key)], [2, Buffer.from(value)]]);
