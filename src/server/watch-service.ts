/**
 * Watch: a stream of a bucket's changes. Declared in the contract; served
 * once the transactions issue lands its history-backed implementation.
 */
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import { LucienError } from '../errors';
import type { Store } from '../storage/store';
import { type EdgeContext, serverStream } from './adapt';

export function watchHandler(edge: EdgeContext, _store: Store): LucienHandlers['Watch'] {
  return serverStream(edge, 'Watch', 'read', async () => {
    throw new LucienError('UNIMPLEMENTED', 'Watch is not served by this build yet');
  });
}
