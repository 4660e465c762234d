/**
 * Watch: a stream of a bucket's changes, in revision order, with no gaps or
 * duplicates. The stream pulls from the backend's retained history rather
 * than buffering pushed events, so a slow consumer costs no server memory:
 * it is flow-controlled by HTTP/2 (we wait for 'drain'), and if it falls so
 * far behind that its next revision leaves the history window, it is ended
 * with OUT_OF_RANGE naming the revision to resume from, as etcd does for
 * compacted revisions.
 */
import type * as grpc from '@grpc/grpc-js';
import { LucienError } from '../errors';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import type { WatchEvent } from '../generated/lucien/v1/WatchEvent';
import type { WatchRequest__Output } from '../generated/lucien/v1/WatchRequest';
import type { Store } from '../storage/store';
import { checkBucket, checkRevision } from '../storage/validate';
import { type EdgeContext, serverStream } from './adapt';
import { requireBuckets } from './auth';

const PAGE = 512;

export function watchHandler(edge: EdgeContext, store: Store): LucienHandlers['Watch'] {
  const space = store.space;
  return serverStream<WatchRequest__Output, WatchEvent>(edge, 'Watch', 'read', async (request, stream, call) => {
    checkBucket(request.bucket, 'read');
    requireBuckets(call.principal, [request.bucket], 'read');
    checkRevision(request.start_revision, 'start_revision');

    // Subscribe before reading, so no commit can slip between catch-up and waiting.
    let wake: (() => void) | undefined;
    let pending = false;
    const unsubscribe = space.onCommit(() => {
      pending = true;
      wake?.();
    });
    const onCancel = () => wake?.();
    stream.on('cancelled', onCancel);
    try {
      let after = request.start_revision > 0 ? request.start_revision - 1 : await space.currentRevision();
      const oldest = await space.oldestRetainedRevision();
      if (after + 1 < oldest) {
        throw new LucienError('COMPACTED', `start_revision ${after + 1} is older than the retained history, which begins at revision ${oldest}`);
      }
      while (!stream.cancelled) {
        pending = false;
        let page;
        try {
          page = await space.changesSince(request.bucket, request.prefix, after, PAGE);
        } catch (err) {
          if ((err as LucienError).code === 'COMPACTED') {
            throw new LucienError('COMPACTED', `this watcher fell behind the retained history; resume with start_revision ${after + 1} after re-reading the bucket`);
          }
          throw err;
        }
        for (const change of page.changes) {
          const event: WatchEvent = { type: change.type === 'put' ? 'PUT' : 'DELETE', bucket: request.bucket, key: change.key, value: change.value, revision: change.revision };
          if (!stream.write(event)) await drained(stream);
          if (stream.cancelled) return;
        }
        if (page.through > after) {
          after = page.through;
          continue;
        }
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      unsubscribe();
      stream.off('cancelled', onCancel);
    }
  });
}

function drained(stream: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('cancelled', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('cancelled', done);
  });
}
