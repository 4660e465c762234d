/**
 * readHistory, the short-lived replay of etcd's Watch behind the etcd
 * backend's changesSince (the long-lived feed is etcd-feed.ts). It must never
 * write to etcd, and translates records through EtcdLayout only.
 */
import type { Etcd3, IWatchResponse } from 'etcd3';
import { LucienError } from '../errors';
import type { Change } from './backend';
import { EtcdStalled } from './etcd-failover';
import type { EtcdLayout } from './etcd-layout';

/**
 * Changes with revision in (after, last], ascending, cut at the first commit
 * boundary once `limit` changes are held. `last` must be a revision at which
 * a Lucien commit happened (the marker's mod_revision): its marker event is
 * what ends the replay, since etcd never splits one revision across watch
 * responses and a watch gives no other sign of having caught up. A replay
 * that goes `idleMs` without a response (a hung member) fails with
 * EtcdStalled, so the caller can try another member; errors stay etcd3's.
 */
export async function readHistory(
  client: Etcd3,
  layout: EtcdLayout,
  after: number,
  last: number,
  limit: number,
  idleMs: number,
): Promise<Change[]> {
  const stream = await client.watchClient.watch();
  return new Promise<Change[]>((resolve, reject) => {
    const out: Change[] = [];
    let group = after;
    let settled = false;
    let timer = setTimeout(() => finish(new EtcdStalled('etcd did not replay the history in time')), idleMs);
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.cancel();
      if (err === undefined) resolve(out);
      else reject(err);
    };
    stream.on('data', (res: IWatchResponse) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new EtcdStalled('etcd stopped replaying the history')), idleMs);
      if (Number(res.compact_revision) > 0) {
        finish(new LucienError('COMPACTED', `revision ${after + 1} was compacted in etcd`));
        return;
      }
      if (res.canceled) {
        finish(new EtcdStalled(`etcd cancelled the history replay: ${res.cancel_reason}`));
        return;
      }
      for (const event of res.events) {
        const revision = Number(event.kv.mod_revision);
        if (revision > last || (revision !== group && out.length >= limit)) {
          finish();
          return;
        }
        group = revision;
        const change = layout.change(event);
        if (change !== undefined) out.push(change);
      }
      if (group >= last) finish();
    });
    stream.on('error', (err) => finish(err));
    stream.on('end', () => finish(new EtcdStalled('the etcd watch stream ended')));
    stream.write({ create_request: { ...layout.all, start_revision: after + 1 } });
  });
}
