/**
 * Watch (DESIGN §3): validates the request and hands the stream to a
 * WatchStream, which catches up from history and then takes its events from
 * the server's one WatchHub (fan-out by bucket and prefix). A slow consumer
 * costs at most its byte budget (LUCIEN_WATCH_BUFFER_BYTES): past it, the
 * stream ends with OUT_OF_RANGE naming the revision to resume from. Nothing
 * here reads history or holds events itself.
 */
import { LucienError } from '../errors';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import type { WatchEvent } from '../generated/lucien/v1/WatchEvent';
import type { WatchRequest__Output } from '../generated/lucien/v1/WatchRequest';
import type { Store } from '../storage/store';
import { checkBucket, checkRevision } from '../storage/validate';
import { type EdgeContext, serverStream } from './adapt';
import { requireBuckets } from './auth';
import type { WatchHub } from './watch-hub';
import { type WatchLimits, WatchStream } from './watch-stream';

export function watchHandler(
  edge: EdgeContext,
  store: Store,
  hub: WatchHub,
  limits: WatchLimits,
): LucienHandlers['Watch'] {
  const role = (request: WatchRequest__Output) => (request.all_buckets ? 'admin' : 'read');
  return serverStream<WatchRequest__Output, WatchEvent>(edge, 'Watch', role, async (request, stream, call) => {
    if (request.all_buckets) {
      if (request.bucket !== '')
        throw new LucienError('INVALID_ARGUMENT', 'a Watch of all buckets takes no bucket name');
      // Every bucket: only a caller whose rights are not limited to some buckets.
      if (call.principal.buckets !== undefined) {
        throw new LucienError(
          'PERMISSION_DENIED',
          `"${call.principal.name}" may not watch every bucket: its token is limited to some buckets`,
        );
      }
    } else {
      checkBucket(request.bucket, 'read');
      requireBuckets(call.principal, [request.bucket], 'read');
    }
    checkRevision(request.start_revision, 'start_revision');
    const target = {
      bucket: request.all_buckets ? undefined : request.bucket,
      prefix: request.prefix,
      startRevision: request.start_revision,
    };
    await new WatchStream(hub, store.space, stream, target, limits).run();
  });
}
