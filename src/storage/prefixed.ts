/**
 * The one place where a key prefix turns a backend into a namespace: buckets
 * are `bucket + '/'` views of the raw keyspace (STYLE principle 18).
 * PrefixedBackend translates keys, conditions, scans, changes and
 * subscriptions, and the helpers below map (bucket, key) to raw keys. A view
 * must never return, accept or leak a key outside its prefix, and it never
 * opens or closes the backend it looks into.
 */
import { LucienError, isLucienError } from '../errors';
import type {
  Backend,
  Capabilities,
  Change,
  CommitResult,
  Condition,
  KeyValue,
  LifecycleStatus,
  Mutation,
  Snapshot,
} from './backend';
import { compareBytewise } from './bytewise';
import type { Listener } from './listeners';

/** Separates a bucket name from its keys; bucket names never contain it. */
export const BUCKET_SEPARATOR = '/';

export function bucketPrefix(bucket: string): string {
  return bucket + BUCKET_SEPARATOR;
}

export function encodeKey(bucket: string, key: string): string {
  return bucket + BUCKET_SEPARATOR + key;
}

/** Splits a raw key at its first separator. A raw key without a bucket is a bug, hence INTERNAL. */
export function decodeKey(raw: string): { bucket: string; key: string } {
  const at = raw.indexOf(BUCKET_SEPARATOR);
  if (at <= 0) throw new LucienError('INTERNAL', 'raw key has no bucket');
  return { bucket: raw.slice(0, at), key: raw.slice(at + 1) };
}

/**
 * Distinct bucket names, sorted bytewise, found by skip-scan: one single-key
 * scan per bucket, never one per key. After bucket b, seek strictly past
 * b + '0': '0' is the character right after '/', so every key of b sorts
 * below b + '0', and b + '0' itself (no separator) is never a bucket key.
 * Keys meet buckets in `bucket + '/'` order ('a-b/' before 'a/'), hence the
 * final sort. Reserved `_` buckets are included; filtering is the caller's.
 */
export async function listBuckets(source: Backend | Snapshot): Promise<string[]> {
  if (!('scan' in source)) {
    const snapshot = await source.snapshot();
    try {
      return await listBuckets(snapshot);
    } finally {
      await snapshot.release();
    }
  }
  const buckets: string[] = [];
  let after: string | undefined;
  for (;;) {
    const [first] = await source.scan('', { after, limit: 1, keysOnly: true });
    if (first === undefined) return buckets.sort(compareBytewise);
    const at = first.key.indexOf(BUCKET_SEPARATOR);
    if (at <= 0) {
      // Not a bucket key (nothing writes these today); step over it.
      after = first.key;
      continue;
    }
    const bucket = first.key.slice(0, at);
    buckets.push(bucket);
    after = bucket + String.fromCharCode(BUCKET_SEPARATOR.charCodeAt(0) + 1);
  }
}


/**
 * A Backend that sees only the keys of `inner` starting with `prefix`, with the
 * prefix taken off. Revisions stay store-wide (they are the inner backend's).
 * A view starts open; closing it stops this view only.
 */
export class PrefixedBackend implements Backend {
  private own: 'open' | 'closing' | 'closed' = 'open';
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly unsubscribes = new Set<() => void>();

  constructor(
    readonly inner: Backend,
    readonly prefix: string,
  ) {}

  get supports(): Capabilities {
    return this.inner.supports;
  }

  get status(): LifecycleStatus {
    return this.own === 'open' ? this.inner.status : this.own;
  }

  async open(): Promise<void> {
    if (this.own === 'closing') await this.close();
    this.own = 'open';
  }

  async close(): Promise<void> {
    if (this.own !== 'open') {
      await Promise.allSettled([...this.inflight]);
      return;
    }
    this.own = 'closing';
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes.clear();
    await Promise.allSettled([...this.inflight]);
    this.own = 'closed';
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.inner.currentRevision();
  }

  async oldestRetainedRevision(): Promise<number> {
    this.assertOpen();
    return this.inner.oldestRetainedRevision();
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const kv = await this.inner.get(this.prefix + key);
    return kv === undefined ? undefined : { ...kv, key };
  }

  async snapshot(): Promise<Snapshot> {
    this.assertOpen();
    const inner = await this.inner.snapshot();
    const innerSync = inner.getManySync;
    const p = this.prefix;
    const strip = (kv: KeyValue | undefined): KeyValue | undefined =>
      kv === undefined ? undefined : { ...kv, key: kv.key.slice(p.length) };
    return {
      revision: inner.revision,
      get: async (key) => strip(await inner.get(p + key)),
      getMany: async (keys) => (await inner.getMany(keys.map((k) => p + k))).map(strip),
      getManySync: innerSync === undefined ? undefined : (keys) => innerSync(keys.map((k) => p + k)).map(strip),
      scan: async (prefix, options) => {
        const rows = await inner.scan(p + prefix, {
          ...options,
          after: options.after === undefined ? undefined : p + options.after,
        });
        return rows.map((kv) => ({ ...kv, key: kv.key.slice(p.length) }));
      },
      release: () => inner.release(),
    };
  }

  commit(mutations: readonly Mutation[], conditions: readonly Condition[] = []): Promise<CommitResult> {
    if (this.own !== 'open') return Promise.reject(closedError());
    const p = this.prefix;
    const run = this.inner
      .commit(
        mutations.map((m) => ({ ...m, key: p + m.key })),
        conditions.map((c) => (c.type === 'key' ? { ...c, key: p + c.key } : { ...c, prefix: p + c.prefix })),
      )
      .catch((err: unknown) => {
        const key = isLucienError(err) ? err.details.key : undefined;
        if (!isLucienError(err) || key === undefined || !key.startsWith(p)) throw err;
        throw new LucienError(err.code, err.message, { ...err.details, key: key.slice(p.length) });
      });
    this.inflight.add(run);
    const done = (): void => {
      this.inflight.delete(run);
    };
    run.then(done, done);
    return run;
  }

  /** Whole commits only, like the inner backend, so `after` = last revision seen resumes exactly. */
  async changesSince(after: number, limit: number): Promise<Change[]> {
    this.assertOpen();
    const out: Change[] = [];
    // Foreign commits are filtered out, so read the inner history in larger pages.
    const page = Math.max(limit, 256);
    let cursor = after;
    while (out.length < limit) {
      const changes = await this.inner.changesSince(cursor, page);
      const last = changes[changes.length - 1];
      if (last === undefined) break;
      for (const change of changes) {
        if (out.length >= limit && change.revision !== out[out.length - 1]?.revision) return out;
        if (change.key.startsWith(this.prefix)) out.push(this.stripChange(change));
      }
      cursor = last.revision;
    }
    return out;
  }

  subscribe(listener: Listener): () => void {
    const unsubscribe = this.inner.subscribe((changes) => {
      const mine = changes.filter((c) => c.key.startsWith(this.prefix)).map((c) => this.stripChange(c));
      if (mine.length > 0) listener(mine);
    });
    this.unsubscribes.add(unsubscribe);
    return () => {
      this.unsubscribes.delete(unsubscribe);
      unsubscribe();
    };
  }

  private stripChange(change: Change): Change {
    return { ...change, key: change.key.slice(this.prefix.length) };
  }

  private assertOpen(): void {
    if (this.own !== 'open') throw closedError();
  }
}

function closedError(): LucienError {
  return new LucienError('UNAVAILABLE', 'prefixed view is closed');
}
