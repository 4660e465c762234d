/**
 * Lucien's rpcs over the lean gRPC client, with requests hand-encoded to the
 * field numbers of proto/lucien/v1/lucien.proto. Only what the bench needs:
 * answers are decoded just far enough to check them (a value, a count).
 */
import { LeanGrpc } from './grpc-lean';
import { countField, encode, stringField } from './wire';

const SERVICE = '/lucien.v1.Lucien/';

export class LucienLean {
  private constructor(readonly rpc: LeanGrpc) {}

  static async connect(address: string): Promise<LucienLean> {
    return new LucienLean(await LeanGrpc.connect(address));
  }

  /** GetRequest {bucket=1, key=2}; resolves with GetResponse.value (JSON text). */
  async get(bucket: string, key: string): Promise<string> {
    return stringField(await this.rpc.unary(`${SERVICE}Get`, encodeGet(bucket, key)), 1);
  }

  /** The same, with the request encoded ahead of time (keeps encoding out of the hot loop). */
  async getEncoded(request: Buffer): Promise<string> {
    return stringField(await this.rpc.unary(`${SERVICE}Get`, request), 1);
  }

  /** PutRequest {bucket=1, key=2, value=3}. */
  async put(bucket: string, key: string, value: string): Promise<void> {
    await this.rpc.unary(`${SERVICE}Put`, encode([[1, bucket], [2, key], [3, value]]));
  }

  async putEncoded(request: Buffer): Promise<void> {
    await this.rpc.unary(`${SERVICE}Put`, request);
  }

  /** BatchGetRequest {repeated KeyRef keys=1}; resolves with the number of entries. */
  async batchGetEncoded(request: Buffer): Promise<number> {
    return countField(await this.rpc.unary(`${SERVICE}BatchGet`, request), 1);
  }

  /** ListRequest {bucket=1, prefix=2, start_after=3, limit=4}; resolves with the number of items. */
  async listEncoded(request: Buffer): Promise<number> {
    return countField(await this.rpc.unary(`${SERVICE}List`, request), 1);
  }

  /** PutScriptRequest {name=1, engine=2, source=3}. */
  async putScript(name: string, engine: 'python' | 'javascript', source: string): Promise<void> {
    await this.rpc.unary(`${SERVICE}PutScript`, encode([[1, name], [2, engine], [3, source]]));
  }

  /** RunRequest {name=1, args=2}; resolves with RunResponse.result (JSON text). */
  async run(name: string, args: string): Promise<string> {
    return stringField(await this.rpc.unary(`${SERVICE}Run`, encode([[1, name], [2, args]])), 1);
  }

  async runEncoded(request: Buffer): Promise<string> {
    return stringField(await this.rpc.unary(`${SERVICE}Run`, request), 1);
  }

  close(): void {
    this.rpc.close();
  }
}

export const encodeGet = (bucket: string, key: string): Buffer => encode([[1, bucket], [2, key]]);
export const encodePut = (bucket: string, key: string, value: string): Buffer => encode([[1, bucket], [2, key], [3, value]]);
export const encodeBatchGet = (bucket: string, keys: readonly string[]): Buffer =>
  encode([[1, keys.map((key) => [[1, bucket], [2, key]] as const)]]);
export const encodeList = (bucket: string, prefix: string, limit: number): Buffer => encode([[1, bucket], [2, prefix], [4, limit]]);
export const encodeRun = (name: string, args: string): Buffer => encode([[1, name], [2, args]]);
