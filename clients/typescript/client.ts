/**
 * LucienClient: the whole lucien.v1 service as typed async methods. Values go
 * in as objects (or JSON text) and come back parsed, with their exact text
 * alongside; errors are LucienClientErrors carrying the server's code;
 * every call takes a deadline and a signal; retryable failures are retried
 * (transport.ts). Watch and Export are async iterators (streams.ts). Checks
 * arguments before sending, so a mistake fails here with a clear message.
 */
import type { BatchGetResponse__Output } from '../../src/generated/lucien/v1/BatchGetResponse';
import type { DeleteResponse__Output } from '../../src/generated/lucien/v1/DeleteResponse';
import type { GetResponse__Output } from '../../src/generated/lucien/v1/GetResponse';
import type { Item__Output } from '../../src/generated/lucien/v1/Item';
import type { ListResponse__Output } from '../../src/generated/lucien/v1/ListResponse';
import type { RunResponse__Output } from '../../src/generated/lucien/v1/RunResponse';
import type { Script__Output } from '../../src/generated/lucien/v1/Script';
import { clientArgumentError, isLucienClientError } from './errors';
import { type CallOptions, type ClientOptions, type ResolvedOptions, resolveOptions } from './options';
import { exportStream, type ExportOptions, watchStream, type WatchOptions } from './streams';
import { Transport } from './transport';
import type { BatchOp, ExportChunk, JsonObject, KeyValue, ListPage, RunResult, ScriptInfo, WatchEvent } from './types';

export interface ListOptions extends CallOptions {
  readonly prefix?: string;
  readonly startAfter?: string;
  /** 1..1000 (default 100). */
  readonly limit?: number;
  readonly pageToken?: string;
  readonly keysOnly?: boolean;
}

export interface RunOptions extends CallOptions {
  readonly dryRun?: boolean;
  /** The script's time limit (0 or unset: the server default). */
  readonly timeoutMs?: number;
}

export interface EvalOptions extends CallOptions {
  /** 'python' (default) or 'javascript'. */
  readonly engine?: string;
  /** Commit the writes (default: a dry run). */
  readonly commit?: boolean;
  readonly timeoutMs?: number;
}

const str = (name: string, value: unknown): string => {
  if (typeof value !== 'string' || value === '')
    throw clientArgumentError(`${name} must be a non-empty string, got ${describe(value)}`);
  return value;
};
const describe = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'string'
        ? JSON.stringify(value.slice(0, 60))
        : typeof value;
const revisionArg = (value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw clientArgumentError(`ifRevision must be an integer >= 0, got ${describe(value)}`);
  return value;
};
/** An object, or JSON text of one (sent as is, so its numbers stay exact). */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw clientArgumentError(`value must be an object or JSON text of one, got ${describe(value)}`);
  return JSON.stringify(value);
}
const parse = <T>(text: string): T => (text === '' ? ({} as T) : (JSON.parse(text) as T));
const argsText = (args: unknown): string => {
  if (!Array.isArray(args)) throw clientArgumentError(`args must be an array, e.g. ["post_1"], got ${describe(args)}`);
  return JSON.stringify(args);
};
const toScript = (s: Script__Output): ScriptInfo => ({
  name: s.name,
  engine: s.engine,
  source: s.source,
  description: s.description,
  revision: s.revision,
});
const toRun = <T>(r: RunResponse__Output): RunResult<T> => ({
  result: parse<T>(r.result),
  resultText: r.result,
  logs: r.logs,
  revision: r.revision,
  attempts: r.attempts,
  writes: r.writes.map((w) => ({
    bucket: w.bucket,
    key: w.key,
    value: w.deleted ? null : parse<JsonObject>(w.value),
    deleted: w.deleted,
  })),
});
const notFoundIsUndefined = <T>(err: unknown): T | undefined => {
  if (isLucienClientError(err) && err.code === 'NOT_FOUND') return undefined;
  throw err;
};

export class LucienClient {
  readonly options: ResolvedOptions;
  private readonly transport: Transport;

  constructor(options: ClientOptions = {}) {
    this.options = resolveOptions(options);
    this.transport = new Transport(this.options);
  }

  /** Writes `value` (an object, or JSON text of one); returns the write's revision. */
  async put(
    bucket: string,
    key: string,
    value: JsonObject | string,
    options: CallOptions & { ifRevision?: number } = {},
  ): Promise<number> {
    const request = {
      bucket: str('bucket', bucket),
      key: str('key', key),
      value: valueText(value),
      if_revision: revisionArg(options.ifRevision),
    };
    return (await this.transport.unary<typeof request, { revision: number }>('Put', request, options)).revision;
  }

  /** The value, or undefined when the key does not exist. */
  async get<T = JsonObject>(bucket: string, key: string, options: CallOptions = {}): Promise<T | undefined> {
    return (await this.getEntry<T>(bucket, key, options))?.value;
  }

  /** The value with its text and revisions, or undefined when the key does not exist. */
  async getEntry<T = JsonObject>(
    bucket: string,
    key: string,
    options: CallOptions = {},
  ): Promise<KeyValue<T> | undefined> {
    const request = { bucket: str('bucket', bucket), key: str('key', key) };
    try {
      const r = await this.transport.unary<typeof request, GetResponse__Output>('Get', request, options);
      return {
        bucket,
        key,
        value: parse<T>(r.value),
        text: r.value,
        createRevision: r.create_revision,
        modRevision: r.mod_revision,
      };
    } catch (err) {
      return notFoundIsUndefined(err);
    }
  }

  async delete(
    bucket: string,
    key: string,
    options: CallOptions & { ifRevision?: number } = {},
  ): Promise<{ revision: number; deleted: boolean }> {
    const request = {
      bucket: str('bucket', bucket),
      key: str('key', key),
      if_revision: revisionArg(options.ifRevision),
    };
    return this.transport.unary<typeof request, DeleteResponse__Output>('Delete', request, options);
  }

  /** One page of keys in bytewise order. */
  async list<T = JsonObject>(bucket: string, options: ListOptions = {}): Promise<ListPage<T>> {
    const limit = options.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0 || limit > 1000)
      throw clientArgumentError(`limit must be an integer from 1 to 1000, got ${describe(limit)}`);
    const request = {
      bucket: str('bucket', bucket),
      prefix: options.prefix ?? '',
      start_after: options.startAfter ?? '',
      limit,
      page_token: options.pageToken ?? '',
      keys_only: options.keysOnly === true,
    };
    const r = await this.transport.unary<typeof request, ListResponse__Output>('List', request, options);
    return {
      items: r.items.map((item: Item__Output) => ({
        bucket,
        key: item.key,
        value: parse<T>(item.value),
        text: item.value,
        createRevision: item.create_revision,
        modRevision: item.mod_revision,
      })),
      nextPageToken: r.next_page_token,
    };
  }

  /** Every key (under `prefix`), page after page. */
  async *scan<T = JsonObject>(
    bucket: string,
    options: Omit<ListOptions, 'pageToken'> = {},
  ): AsyncGenerator<KeyValue<T>> {
    let pageToken = '';
    do {
      const page: ListPage<T> = await this.list<T>(bucket, { ...options, limit: options.limit ?? 1000, pageToken });
      yield* page.items;
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
  }

  /** Number of keys in a bucket (under `prefix`), counted from keys-only pages. */
  async count(bucket: string, options: CallOptions & { prefix?: string } = {}): Promise<number> {
    let n = 0;
    for await (const _ of this.scan(bucket, { ...options, keysOnly: true })) n++;
    return n;
  }

  /** Up to 1,000 keys from one snapshot; undefined where a key is missing. */
  async batchGet<T = JsonObject>(
    refs: readonly { bucket: string; key: string }[],
    options: CallOptions = {},
  ): Promise<{ revision: number; entries: (KeyValue<T> | undefined)[] }> {
    if (!Array.isArray(refs))
      throw clientArgumentError(`refs must be an array of {bucket, key}, got ${describe(refs)}`);
    const keys = refs.map((r, i) => ({
      bucket: str(`refs[${i}].bucket`, r?.bucket),
      key: str(`refs[${i}].key`, r?.key),
    }));
    const r = await this.transport.unary<{ keys: typeof keys }, BatchGetResponse__Output>(
      'BatchGet',
      { keys },
      options,
    );
    return {
      revision: r.revision,
      entries: r.entries.map((e) =>
        e.found
          ? {
              bucket: e.bucket,
              key: e.key,
              value: parse<T>(e.value),
              text: e.value,
              createRevision: e.create_revision,
              modRevision: e.mod_revision,
            }
          : undefined,
      ),
    };
  }

  /** Applies up to 1,000 puts and deletes atomically; returns their one revision. */
  async batch(ops: readonly BatchOp[], options: CallOptions = {}): Promise<number> {
    if (!Array.isArray(ops)) throw clientArgumentError(`ops must be an array, got ${describe(ops)}`);
    const wire = ops.map((op, i) => {
      const ref = {
        bucket: str(`ops[${i}].bucket`, op?.bucket),
        key: str(`ops[${i}].key`, op?.key),
        if_revision: revisionArg(op.ifRevision),
      };
      if (op.type === 'put') return { put: { ...ref, value: valueText(op.value) } };
      if (op.type === 'delete') return { delete: ref };
      throw clientArgumentError(`ops[${i}].type must be "put" or "delete"`);
    });
    return (await this.transport.unary<{ ops: typeof wire }, { revision: number }>('Batch', { ops: wire }, options))
      .revision;
  }

  async buckets(options: CallOptions = {}): Promise<string[]> {
    return (await this.transport.unary<object, { buckets: string[] }>('ListBuckets', {}, options)).buckets;
  }

  /** The store's current revision (a BatchGet of no keys). */
  async currentRevision(options: CallOptions = {}): Promise<number> {
    return (await this.batchGet([], options)).revision;
  }

  async putScript(
    name: string,
    source: string,
    options: CallOptions & { engine?: string; description?: string; ifRevision?: number } = {},
  ): Promise<number> {
    const request = {
      name: str('name', name),
      engine: options.engine ?? 'python',
      source: str('source', source),
      description: options.description ?? '',
      if_revision: revisionArg(options.ifRevision),
    };
    return (await this.transport.unary<typeof request, { revision: number }>('PutScript', request, options)).revision;
  }

  /** The script, or undefined when none has that name. */
  async getScript(name: string, options: CallOptions = {}): Promise<ScriptInfo | undefined> {
    try {
      return toScript(
        await this.transport.unary<{ name: string }, Script__Output>('GetScript', { name: str('name', name) }, options),
      );
    } catch (err) {
      return notFoundIsUndefined(err);
    }
  }

  async listScripts(options: CallOptions = {}): Promise<ScriptInfo[]> {
    return (await this.transport.unary<object, { scripts: Script__Output[] }>('ListScripts', {}, options)).scripts.map(
      toScript,
    );
  }

  async deleteScript(name: string, options: CallOptions = {}): Promise<boolean> {
    return (
      await this.transport.unary<{ name: string }, { deleted: boolean }>(
        'DeleteScript',
        { name: str('name', name) },
        options,
      )
    ).deleted;
  }

  /** Runs a registered script with `args` (an array). */
  async run<T = unknown>(name: string, args: readonly unknown[] = [], options: RunOptions = {}): Promise<RunResult<T>> {
    const request = {
      name: str('name', name),
      args: argsText(args),
      dry_run: options.dryRun === true,
      timeout_ms: options.timeoutMs ?? 0,
    };
    return toRun<T>(await this.transport.unary<typeof request, RunResponse__Output>('Run', request, options));
  }

  /** Runs source without registering it (admin); a dry run unless `commit`. */
  async eval<T = unknown>(
    source: string,
    args: readonly unknown[] = [],
    options: EvalOptions = {},
  ): Promise<RunResult<T>> {
    const request = {
      engine: options.engine ?? 'python',
      source: str('source', source),
      args: argsText(args),
      commit: options.commit === true,
      timeout_ms: options.timeoutMs ?? 0,
    };
    return toRun<T>(await this.transport.unary<typeof request, RunResponse__Output>('Eval', request, options));
  }

  /** A bucket's changes as an async iterator that resumes from the last revision after a disconnect. */
  watch<T = JsonObject>(bucket: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    return watchStream<T>(this.transport, str('bucket', bucket), options, () => this.currentRevision());
  }

  /** One consistent snapshot of buckets and scripts, chunk by chunk (the first chunk names the revision). */
  export(options: ExportOptions = {}): AsyncGenerator<ExportChunk> {
    return exportStream(this.transport, options);
  }

  close(): void {
    this.transport.close();
  }
}
