/**
 * The etcd backend's two uses of etcd's Watch: EtcdFeed, the one watch on the
 * namespace that lives as long as the backend is open and calls subscribers
 * once per commit (this server's or any other's), and readHistory, the
 * short-lived replay behind changesSince. Neither must ever write to etcd;
 * both translate records through EtcdLayout only.
 */
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { LucienError } from '../errors';
import type { Change } from './backend';
import { toLucienError } from './etcd-io';
import type { EtcdLayout } from './etcd-layout';

import { type Listener, notify } from './listeners';

/** How long a history replay may go without a response before it gives up. */
const REPLAY_IDLE_MS = 15_000;

export class EtcdFeed {
  /** Highest Lucien revision this server has committed or seen through its watch. */
  private observed = 0;
  /** Listener → the revision it subscribed at (it gets only later commits). */
  private readonly listeners = new Map<Listener, number>();
  private watcher: Watcher | undefined;
  private client: Etcd3 | undefined;

  constructor(private readonly layout: EtcdLayout) {}

  /** Starts watching at `start` (etcd's revision now + 1); `current` is the Backend's current revision. */
  async start(client: Etcd3, current: number, start: number): Promise<void> {
    this.client = client;
    this.observed = Math.max(this.observed, current);
    this.watcher = await this.watchFrom(client, start);
  }

  async stop(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    this.client = undefined;
    await watcher?.cancel().catch(() => undefined);
  }

  /** Records a commit of this server, so later subscribers do not get it. */
  saw(revision: number): void {
    this.observed = Math.max(this.observed, revision);
  }

  subscribe(listener: Listener): () => void {
    // Wrapped so that the same function subscribed twice gets two subscriptions.
    const entry: Listener = (changes) => listener(changes);
    this.listeners.set(entry, this.observed);
    return () => {
      this.listeners.delete(entry);
    };
  }

  private async watchFrom(client: Etcd3, start: number): Promise<Watcher> {
    const watcher = await client.watch().prefix(this.layout.namespace).startRevision(String(start)).create();
    watcher.on('data', (res) => this.deliver(res));
    // A watch etcd cancels (its resume point was compacted while disconnected) restarts
    // from now: subscribers only wake Watch streams, which catch up from history.
    watcher.on('error', () => {
      if (this.watcher !== watcher || this.client !== client) return;
      void client.kv
        .range({ key: this.layout.meta, keys_only: true })
        .then((res) => this.watchFrom(client, Number(res.header.revision) + 1))
        .then((next) => {
          if (this.watcher === watcher) this.watcher = next;
          else void next.cancel();
        })
        .catch(() => undefined);
    });
    return watcher;
  }

  /** One watch response may hold several commits; each goes out as one call per listener. */
  private deliver(res: IWatchResponse): void {
    let group: Change[] = [];
    const flush = (): void => {
      const revision = group[0]?.revision;
      if (revision === undefined) return;
      this.saw(revision);
      for (const [listener, from] of this.listeners) if (revision > from) notify(listener, group);
      group = [];
    };
    for (const event of res.events) {
      const change = this.layout.change(event);
      if (change === undefined) continue;
      if (group[0] !== undefined && group[0].revision !== change.revision) flush();
      group.push(change);
    }
    flush();
  }
}

/**
 * Changes with revision in (after, last], ascending, cut at the first commit
 * boundary once `limit` changes are held. `last` must be a revision at which
 * a Lucien commit happened (the marker's mod_revision): its marker event is
 * what ends the replay, since etcd never splits one revision across watch
 * responses and a watch gives no other sign of having caught up.
 */
export async function readHistory(client: Etcd3, layout: EtcdLayout, after: number, last: number, limit: number): Promise<Change[]> {
  const stream = await client.watchClient.watch();
  return new Promise<Change[]>((resolve, reject) => {
    const out: Change[] = [];
    let group = after;
    let settled = false;
    let timer = setTimeout(() => finish(new LucienError('UNAVAILABLE', 'etcd did not replay the history in time')), REPLAY_IDLE_MS);
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // End our side first: etcd3 marks the connection failed (and, after three, opens its circuit
      // breaker for every call, commits included) when a still-writable watch stream errors, and a
      // cancel is such an error. Concurrent replays (several Watch streams catching up) tripped it.
      stream.end();
      stream.cancel();
      if (err === undefined) resolve(out);
      else reject(toLucienError(err));
    };
    stream.on('data', (res: IWatchResponse) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new LucienError('UNAVAILABLE', 'etcd stopped replaying the history')), REPLAY_IDLE_MS);
      if (Number(res.compact_revision) > 0) {
        finish(new LucienError('COMPACTED', `revision ${after + 1} was compacted in etcd`));
        return;
      }
      if (res.canceled) {
        finish(new LucienError('UNAVAILABLE', `etcd cancelled the history replay: ${res.cancel_reason}`));
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
    stream.on('end', () => finish(new LucienError('UNAVAILABLE', 'the etcd watch stream ended')));
    stream.write({ create_request: { ...layout.all, start_revision: after + 1 } });
  });
}

