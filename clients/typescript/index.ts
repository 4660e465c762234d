/**
 * `lucien/client`: the typed TypeScript client of Lucien.
 *
 *   import { LucienClient } from 'lucien/client';
 *   const client = new LucienClient({ address: '127.0.0.1:50051' });
 *   await client.put('posts', 'post_1', { title: 'Hello' });
 *   for await (const event of client.watch('posts')) console.log(event);
 */
export { LucienClient, valueText, type EvalOptions, type ListOptions, type RunOptions } from './client';
export { LucienClientError, isLucienClientError, type ClientErrorCode } from './errors';
export { DEFAULT_ADDRESS, type CallOptions, type ClientOptions, type RetryOptions, type TlsOptions } from './options';
export type { ExportOptions, WatchOptions } from './streams';
export type {
  BatchOp,
  ExportChunk,
  ExportRecord,
  JsonObject,
  KeyValue,
  ListPage,
  RunResult,
  RunWrite,
  ScriptInfo,
  WatchEvent,
} from './types';
