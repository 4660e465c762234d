/**
 * EtcdFeed: the one watch on the namespace that lives as long as the etcd
 * backend is open and calls subscribers once per commit (this server's or any
 * other's). Subscribers only wake Watch streams (which read what they deliver
 * from history) and clear caches, so the feed may repeat a commit after a
 * reconnection but must not sit silent while commits happen.
 *
 * The watch talks to one member at a time, through a client of its own. A
 * member that dies breaks the stream, and etcd3 reconnects; a member that
 * hangs or is cut off keeps the stream open and silent. So once a second the
 * feed asks the cluster (through the backend's client, which routes around bad
 * members) for the latest Lucien commit; if the watch has stayed behind it for
 * `stallMs`, the feed moves to the next member and resumes after the last
 * revision it delivered. It must never write to etcd.
 */
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import type { Change } from './backend';
import type { EtcdLayout } from './etcd-layout';
import { type Listener, notify } from './listeners';

export interface FeedOptions {
  readonly endpoints: readonly string[];
  /** A client for one member, used by the watch only. */
  readonly connect: (endpoint: string) => Etcd3;
  /** How often the feed checks that it keeps up (ms). */
  readonly checkEveryMs: number;
  /** How long it may stay behind the latest commit before it changes member (ms). */
  readonly stallMs: number;
}

export class EtcdFeed {
  /** Highest Lucien revision this server has committed or seen through its watch. */
  private observed = 0;
  /** Highest etcd revision the watch delivered (or the revision it started after). */
  private delivered = 0;
  /** Listener → the revision it subscribed at (it gets only later commits). */
  private readonly listeners = new Map<Listener, number>();
  private main: Etcd3 | undefined;
  private client: Etcd3 | undefined;
  private watcher: Watcher | undefined;
  private member = 0;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private behindSince: number | undefined;
  private checking = false;

  constructor(
    private readonly layout: EtcdLayout,
    private readonly options: FeedOptions,
  ) {
    // Nodes start on different members, so their watches spread over the cluster.
    this.member = Math.floor(Math.random() * options.endpoints.length);
  }

  /** Starts watching after etcd revision `after`; `current` is the Backend's current revision; `main` routes around bad members. */
  start(main: Etcd3, current: number, after: number): void {
    this.main = main;
    this.observed = Math.max(this.observed, current);
    this.delivered = after;
    this.connect();
    this.timer = setInterval(() => void this.check(), this.options.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.main = undefined;
    this.disconnect();
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

  /** The member the watch uses now (for tests and logs). */
  get endpoint(): string {
    return this.options.endpoints[this.member % this.options.endpoints.length] as string;
  }

  private connect(): void {
    const generation = ++this.generation;
    const client = this.options.connect(this.endpoint);
    this.client = client;
    // Built and attached now, not awaited (on a dead member etcd3 would wait for it
    // indefinitely; the check moves on), and held from the start, so that disconnect()
    // can cancel it even before it connects: a closed client with a watcher still
    // attached would keep trying to reconnect it.
    const watcher = client
      .watch()
      .prefix(this.layout.namespace)
      .startRevision(String(this.delivered + 1))
      .watcher();
    this.watcher = watcher;
    watcher.on('data', (res: IWatchResponse) => {
      if (generation === this.generation) this.deliver(res);
    });
    // etcd cancelled the watch (its resume point was compacted while disconnected):
    // start again from now; subscribers catch up from history anyway.
    watcher.on('error', () => {
      if (generation === this.generation) this.reconnect(true);
    });
  }

  private disconnect(): void {
    this.generation++;
    const { watcher, client } = this;
    this.watcher = undefined;
    this.client = undefined;
    void watcher?.cancel().catch(() => undefined);
    client?.close();
  }

  /** Moves the watch to the next member; `fromNow` skips what etcd can no longer replay. */
  private reconnect(fromNow: boolean): void {
    const main = this.main;
    if (main === undefined) return;
    this.disconnect();
    this.member++;
    if (!fromNow) return this.connect();
    void main.kv
      .range({ key: this.layout.meta, keys_only: true }, { deadline: Date.now() + 2000 })
      .then((res) => {
        this.delivered = Math.max(this.delivered, Number(res.header.revision));
        this.notifyAll();
      })
      .catch(() => undefined)
      .finally(() => {
        if (this.main !== undefined) this.connect();
      });
  }

  private async check(): Promise<void> {
    const main = this.main;
    if (main === undefined || this.checking) return;
    this.checking = true;
    try {
      const res = await main.kv.range(
        { key: this.layout.meta, keys_only: true },
        { deadline: Date.now() + this.options.checkEveryMs },
      );
      const latest = Number(res.kvs[0]?.mod_revision ?? 0);
      if (latest <= this.delivered) this.behindSince = undefined;
      else if (this.behindSince === undefined) this.behindSince = Date.now();
      else if (Date.now() - this.behindSince >= this.options.stallMs) {
        this.behindSince = undefined;
        this.reconnect(false);
      }
    } catch {
      // The backend's own calls report etcd being unreachable; the next check tries again.
    } finally {
      this.checking = false;
    }
  }

  /** After a gap the feed cannot replay: wake every subscriber once (they re-read what they need). */
  private notifyAll(): void {
    const revision = this.delivered;
    for (const [listener, from] of this.listeners) if (revision > from) notify(listener, []);
  }

  /** One watch response may hold several commits; each goes out as one call per listener. Repeats are dropped. */
  private deliver(res: IWatchResponse): void {
    const floor = this.delivered;
    let group: Change[] = [];
    const flush = (): void => {
      const revision = group[0]?.revision;
      if (revision === undefined) return;
      this.saw(revision);
      for (const [listener, from] of this.listeners) if (revision > from) notify(listener, group);
      group = [];
    };
    for (const event of res.events) {
      const revision = Number(event.kv.mod_revision);
      if (revision <= floor) continue;
      this.delivered = Math.max(this.delivered, revision);
      const change = this.layout.change(event);
      if (change === undefined) continue;
      if (group[0] !== undefined && group[0].revision !== change.revision) flush();
      group.push(change);
    }
    flush();
  }
}
