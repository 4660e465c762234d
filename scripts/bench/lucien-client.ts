/**
 * Lucien's rpcs over the lean gRPC client. Requests are encoded by protobufjs
 * from proto/lucien/v1/lucien.proto itself, loaded once at setup (the hot
 * loops send requests encoded ahead of time). Answers are decoded just far
 * enough to check them (a value, a count), by the lean walker, with field
 * numbers looked up in the same proto: nothing here hard-codes the wire.
 */
import * as protobuf from 'protobufjs';
import { join } from 'node:path';
import { PROTO_ROOT } from '../../src/paths';
import { LeanGrpc } from './grpc-lean';
import { countField, stringField } from './wire';

const SERVICE = '/lucien.v1.Lucien/';
const root = protobuf.loadSync(join(PROTO_ROOT, 'lucien/v1/lucien.proto'));

function message(name: string): protobuf.Type {
  return root.lookupType(`lucien.v1.${name}`);
}

/** Encodes one request message of lucien.proto from its snake_case fields. */
export function encodeRequest(type: string, fields: Record<string, unknown>): Buffer {
  const t = message(type);
  const problem = t.verify(fields);
  if (problem !== null) throw new Error(`${type}: ${problem}`);
  return Buffer.from(t.encode(t.fromObject(fields)).finish());
}

/** The field number of `field` in message `type`, from the proto. */
function fieldId(type: string, field: string): number {
  const f = message(type).fields[field];
  if (f === undefined) throw new Error(`lucien.v1.${type} has no field ${field}`);
  return f.id;
}

const GET_VALUE = fieldId('GetResponse', 'value');
const RUN_RESULT = fieldId('RunResponse', 'result');
export const BATCH_ENTRIES = fieldId('BatchGetResponse', 'entries');
const LIST_ITEMS = fieldId('ListResponse', 'items');
/** Entry.value, for callers that walk a BatchGetResponse themselves. */
export const ENTRY_VALUE = fieldId('Entry', 'value');

export class LucienLean {
  private constructor(readonly rpc: LeanGrpc) {}

  static async connect(address: string): Promise<LucienLean> {
    return new LucienLean(await LeanGrpc.connect(address));
  }

  /** Resolves with GetResponse.value (JSON text). */
  async get(bucket: string, key: string): Promise<string> {
    return this.getEncoded(encodeGet(bucket, key));
  }

  /** The same, with the request encoded ahead of time (keeps encoding out of the hot loop). */
  async getEncoded(request: Buffer): Promise<string> {
    return stringField(await this.rpc.unary(`${SERVICE}Get`, request), GET_VALUE);
  }

  async put(bucket: string, key: string, value: string): Promise<void> {
    await this.putEncoded(encodePut(bucket, key, value));
  }

  async putEncoded(request: Buffer): Promise<void> {
    await this.rpc.unary(`${SERVICE}Put`, request);
  }

  /** Resolves with the number of entries. */
  async batchGetEncoded(request: Buffer): Promise<number> {
    return countField(await this.rpc.unary(`${SERVICE}BatchGet`, request), BATCH_ENTRIES);
  }

  /** Resolves with the number of items. */
  async listEncoded(request: Buffer): Promise<number> {
    return countField(await this.rpc.unary(`${SERVICE}List`, request), LIST_ITEMS);
  }

  async putScript(name: string, engine: 'python' | 'javascript', source: string): Promise<void> {
    await this.rpc.unary(`${SERVICE}PutScript`, encodeRequest('PutScriptRequest', { name, engine, source }));
  }

  /** Resolves with RunResponse.result (JSON text). */
  async run(name: string, args: string): Promise<string> {
    return this.runEncoded(encodeRun(name, args));
  }

  async runEncoded(request: Buffer): Promise<string> {
    return stringField(await this.rpc.unary(`${SERVICE}Run`, request), RUN_RESULT);
  }

  close(): void {
    this.rpc.close();
  }
}

export const encodeGet = (bucket: string, key: string): Buffer => encodeRequest('GetRequest', { bucket, key });
export const encodePut = (bucket: string, key: string, value: string): Buffer =>
  encodeRequest('PutRequest', { bucket, key, value });
export const encodeBatchGet = (bucket: string, keys: readonly string[]): Buffer =>
  encodeRequest('BatchGetRequest', { keys: keys.map((key) => ({ bucket, key })) });
export const encodeList = (bucket: string, prefix: string, limit: number): Buffer =>
  encodeRequest('ListRequest', { bucket, prefix, limit });
export const encodeRun = (name: string, args: string): Buffer => encodeRequest('RunRequest', { name, args });
