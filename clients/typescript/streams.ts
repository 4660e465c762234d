/**
 * The two server streams as async iterators. Watch resumes after a
 * disconnect from the revision after the last event it delivered (so no
 * event is lost or repeated), with back-off, until the caller stops it or a
 * failure is not retryable (e.g. COMPACTED). Export never resumes: a
 * snapshot cannot be continued on another connection, so a broken export
 * fails and is started again.
 */
import type { ExportChunk__Output } from '../../src/generated/lucien/v1/ExportChunk';
import type { WatchEvent__Output } from '../../src/generated/lucien/v1/WatchEvent';
import { clientArgumentError, fromGrpcError, isLucienClientError } from './errors';
import { backoffMs, sleep, type Transport } from './transport';
import type { ExportChunk, JsonObject, WatchEvent } from './types';

export interface WatchOptions {
  readonly prefix?: string;
  /** First revision to deliver (default: changes after the current revision). */
  readonly fromRevision?: number;
  /** Stops the watch; the iterator then ends. */
  readonly signal?: AbortSignal;
  /** Reconnection attempts in a row before giving up (default: unlimited; 0: never reconnect). */
  readonly reconnects?: number;
  /** Called before each reconnection, with the error and the revision it resumes from. */
  readonly onReconnect?: (error: unknown, fromRevision: number) => void;
}

export interface ExportOptions {
  /** Buckets to export (default: all but the reserved `_` ones). */
  readonly buckets?: readonly string[];
  readonly excludeScripts?: boolean;
  readonly signal?: AbortSignal;
}

/** A function, so TypeScript does not narrow `aborted` across awaits. */
const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

export async function* watchStream<T = JsonObject>(
  transport: Transport,
  bucket: string,
  options: WatchOptions,
  currentRevision: () => Promise<number>,
): AsyncGenerator<WatchEvent<T>> {
  const { signal } = options;
  if (options.fromRevision !== undefined && (!Number.isSafeInteger(options.fromRevision) || options.fromRevision < 0)) {
    throw clientArgumentError(`fromRevision must be an integer >= 0, got ${String(options.fromRevision)}`);
  }
  // "From now" is pinned to a revision up front, so a reconnect cannot skip what happened in between.
  let next =
    options.fromRevision !== undefined && options.fromRevision > 0
      ? options.fromRevision
      : (await currentRevision()) + 1;
  const limit = options.reconnects ?? Infinity;
  let failures = 0;
  while (!aborted(signal)) {
    const call = transport.stream<object, WatchEvent__Output>(
      'Watch',
      { bucket, prefix: options.prefix ?? '', start_revision: next },
      signal,
    );
    let error: unknown;
    try {
      for await (const raw of call as AsyncIterable<WatchEvent__Output>) {
        failures = 0;
        next = raw.revision + 1;
        const type = raw.type === 'DELETE' ? 'DELETE' : 'PUT';
        yield {
          type,
          bucket: raw.bucket,
          key: raw.key,
          value: type === 'DELETE' ? null : (JSON.parse(raw.value) as T),
          text: raw.value,
          revision: raw.revision,
        };
      }
      // A watch never ends by itself; the server went away cleanly (e.g. shutdown).
      error = fromGrpcError({ code: 14, details: 'the watch stream ended', metadata: undefined });
    } catch (err) {
      error = fromGrpcError(err);
    } finally {
      call.cancel();
    }
    if (aborted(signal)) return;
    const resumable =
      isLucienClientError(error) && (error.retryable || error.code === 'CANCELLED' || error.code === 'INTERNAL');
    if (!resumable || ++failures > limit) throw error;
    options.onReconnect?.(error, next);
    await sleep(backoffMs(Math.min(failures, 10), transport.options), signal);
  }
}

export async function* exportStream(transport: Transport, options: ExportOptions): AsyncGenerator<ExportChunk> {
  const buckets = options.buckets ?? [];
  if (!Array.isArray(buckets) || buckets.some((b) => typeof b !== 'string' || b === ''))
    throw clientArgumentError('buckets must be an array of bucket names');
  const call = transport.stream<object, ExportChunk__Output>(
    'Export',
    { buckets, exclude_scripts: options.excludeScripts === true },
    options.signal,
  );
  try {
    for await (const chunk of call as AsyncIterable<ExportChunk__Output>) {
      yield {
        revision: chunk.revision,
        records: chunk.records.map((r) => ({
          bucket: r.bucket,
          key: r.key,
          text: r.value,
          createRevision: r.create_revision,
          modRevision: r.mod_revision,
        })),
        scripts: chunk.scripts.map((s) => ({
          name: s.name,
          engine: s.engine,
          source: s.source,
          description: s.description,
          revision: s.revision,
        })),
      };
    }
  } catch (err) {
    throw fromGrpcError(err);
  } finally {
    call.cancel();
  }
}
