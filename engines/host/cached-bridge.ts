/**
 * CachedBridge: one run's bucket bridge in front of the host's read cache.
 * Point reads and lists the cache holds are answered here, with no round
 * trip; misses go to the server as one 'read' call that also brings back each
 * key's revision, and fill the cache. Writes still go to the server (it
 * checks and buffers them, and commits); their answers are remembered here so
 * later reads of the run see its own writes, as the server would answer.
 *
 * Every read answered here is recorded with the revision it saw (lists by
 * their raw prefix): the run's done message carries that read set, so the
 * server guards the commit exactly as if the reads had crossed the bridge.
 *
 * Anything not clearly a well-formed read (wrong types, a bucket name with
 * '/', a getMany over the server's batch limit) goes to the server unchanged,
 * so failures stay the server's, with its messages. Must never import from
 * src/, and must never hand the cache to an engine.
 */
import { FRAME_VALUE, type CachedReadSet, cacheName } from '../protocol';
import { parseRead } from './read-answer';
import type { HostBridge } from './host-engine';
import type { HostReadCache } from './read-cache';

const SEPARATOR = '/';

type Call = {
  op?: unknown;
  bucket?: unknown;
  key?: unknown;
  keys?: unknown;
  value?: unknown;
  prefix?: unknown;
  limit?: unknown;
  startAfter?: unknown;
};

export class CachedBridge implements HostBridge {
  /** Raw key -> what this run wrote (JSON text, or 'null' for a delete). */
  private readonly own = new Map<string, string>();
  /** Raw key -> revision, for reads answered from the cache (the first read of each key). */
  private readonly hits = new Map<string, number>();
  /** Raw keys the server answered this run: it recorded them itself. */
  private readonly fetched = new Set<string>();
  private readonly listed = new Set<string>();
  /** Script calls answered here rather than sent on as they were. */
  private readonly calls = { get: 0, getMany: 0, list: 0 };
  /** Requests peek() answered this run, and the reads each would record (what taken() records). */
  private readonly peeked = new Map<string, PeekedRead>();

  constructor(
    private readonly cache: HostReadCache,
    private readonly upstream: HostBridge,
    private readonly maxReadBatch: number,
  ) {}

  call(request: string): string {
    const call = parseCall(request);
    if (call === undefined) return this.upstream.call(request);
    const bucket = call.bucket;
    switch (call.op) {
      case 'get':
        if (typeof call.key !== 'string') return this.upstream.call(request);
        this.calls.get++;
        return this.read(bucket, [call.key], true);
      case 'getMany':
        if (!this.readableKeys(call.keys)) return this.upstream.call(request);
        this.calls.getMany++;
        return this.read(bucket, call.keys, false);
      case 'put':
      case 'delete':
        return this.write(request, bucket, call);
      case 'list':
        return this.list(request, bucket, call);
      default:
        return this.upstream.call(request);
    }
  }

  /**
   * What call(request) would answer now, when the cache alone answers it (a
   * get, getMany or list of store state, none of it written by this run);
   * undefined otherwise. Records nothing and sends nothing: an engine may
   * hand the answer to its script early (prefetch), and must then pass the
   * request to taken() (or call()) once the script really makes it, so that
   * the read is recorded at that point, exactly as if it had come then.
   */
  peek(request: string): string | undefined {
    const call = parseCall(request);
    if (call === undefined) return undefined;
    switch (call.op) {
      case 'get':
        return typeof call.key === 'string' ? this.peekKeys(request, call.bucket, [call.key], true) : undefined;
      case 'getMany':
        return this.readableKeys(call.keys) ? this.peekKeys(request, call.bucket, call.keys, false) : undefined;
      case 'list': {
        const listKey = this.listKey(call);
        const rawPrefix = listKey === undefined ? '' : cacheName(call.bucket, call.prefix as string);
        if (listKey === undefined || this.ownUnder(rawPrefix)) return undefined;
        const hit = this.cache.getList(listKey);
        if (hit === undefined) return undefined;
        this.peeked.set(request, { op: 'list', raws: [rawPrefix], revisions: [] });
        return FRAME_VALUE + hit;
      }
      default:
        return undefined;
    }
  }

  /**
   * Records what call(request) would for a request peek() answered: the
   * cache cannot have changed since (nothing crossed: an engine reports what
   * its script took before anything crosses), so the same hits, without
   * building the answer again. Anything else goes through call().
   */
  taken(request: string): void {
    const peeked = this.peeked.get(request);
    if (peeked === undefined || this.own.size > 0 || this.fetched.size > 0) {
      this.call(request);
      return;
    }
    this.calls[peeked.op]++;
    const { raws, revisions } = peeked;
    if (peeked.op === 'list') {
      this.listed.add(raws[0] as string);
      return;
    }
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i] as string;
      if (!this.hits.has(raw)) this.hits.set(raw, revisions[i] as number);
    }
  }

  /** The reads and calls answered here, for the done message (undefined when there were none). */
  readSet(): CachedReadSet | undefined {
    const { get, getMany, list } = this.calls;
    if (get + getMany + list === 0) return undefined;
    return { keys: [...this.hits], prefixes: [...this.listed], calls: { get, getMany, list } };
  }

  private readableKeys(keys: unknown): keys is string[] {
    return Array.isArray(keys) && keys.length <= this.maxReadBatch && keys.every((k) => typeof k === 'string');
  }

  private peekKeys(request: string, bucket: string, keys: readonly string[], single: boolean): string | undefined {
    const texts: string[] = new Array(keys.length);
    const raws: string[] = new Array(keys.length);
    const revisions: number[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const raw = cacheName(bucket, keys[i] as string);
      const hit = this.own.has(raw) ? undefined : this.cache.get(raw);
      if (hit === undefined) return undefined;
      texts[i] = hit.value;
      raws[i] = raw;
      revisions[i] = hit.modRevision;
    }
    this.peeked.set(request, { op: single ? 'get' : 'getMany', raws, revisions });
    return single ? FRAME_VALUE + (texts[0] as string) : `${FRAME_VALUE}[${texts.join(',')}]`;
  }

  private read(bucket: string, keys: readonly string[], single: boolean): string {
    const texts: (string | undefined)[] = new Array(keys.length);
    let missing: string[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const raw = cacheName(bucket, keys[i] as string);
      const own = this.own.get(raw);
      if (own !== undefined) {
        texts[i] = own;
        continue;
      }
      const hit = this.cache.get(raw);
      if (hit !== undefined) {
        texts[i] = hit.value;
        if (!this.hits.has(raw) && !this.fetched.has(raw)) this.hits.set(raw, hit.modRevision);
        continue;
      }
      (missing ??= []).push(keys[i] as string);
    }
    if (missing !== undefined) {
      const unique = [...new Set(missing)];
      const reply = this.upstream.call(JSON.stringify({ op: 'read', bucket, keys: unique }));
      if (reply[0] !== FRAME_VALUE) return reply;
      const found = parseRead(reply, unique.length);
      if (found === undefined) return 'ebucket bridge: malformed read answer';
      const byKey = new Map<string, string>();
      unique.forEach((key, i) => {
        const [modRevision, value] = found[i] as [number, string];
        const raw = cacheName(bucket, key);
        byKey.set(key, value);
        this.fetched.add(raw);
        // -1: the server answered the run's own write (this bridge should have): not store state.
        if (modRevision >= 0) this.cache.fill(raw, value, modRevision);
      });
      for (let i = 0; i < keys.length; i++) if (texts[i] === undefined) texts[i] = byKey.get(keys[i] as string);
    }
    return single ? FRAME_VALUE + (texts[0] as string) : `${FRAME_VALUE}[${texts.join(',')}]`;
  }

  private write(request: string, bucket: string, call: ReadCall): string {
    const reply = this.upstream.call(request);
    if (reply[0] === FRAME_VALUE && typeof call.key === 'string') {
      const value = call.op === 'put' && typeof call.value === 'string' ? call.value : 'null';
      this.own.set(cacheName(bucket, call.key), value);
    }
    return reply;
  }

  /** The cache's name for a list call, or undefined when the call is not a well-formed list. */
  private listKey(call: ReadCall): string | undefined {
    const { prefix, limit, startAfter } = call;
    if (
      typeof prefix !== 'string' ||
      typeof limit !== 'number' ||
      (startAfter !== null && typeof startAfter !== 'string')
    )
      return undefined;
    return JSON.stringify([call.bucket, prefix, limit, startAfter]);
  }

  /** The server merges the run's own writes into a list: not a store state the cache may hold. */
  private ownUnder(rawPrefix: string): boolean {
    for (const raw of this.own.keys()) if (raw.startsWith(rawPrefix)) return true;
    return false;
  }

  private list(request: string, bucket: string, call: ReadCall): string {
    const listKey = this.listKey(call);
    if (listKey === undefined) return this.upstream.call(request);
    const rawPrefix = cacheName(bucket, call.prefix as string);
    if (this.ownUnder(rawPrefix)) return this.upstream.call(request);
    const hit = this.cache.getList(listKey);
    if (hit !== undefined) {
      this.listed.add(rawPrefix);
      this.calls.list++;
      return FRAME_VALUE + hit;
    }
    const reply = this.upstream.call(request);
    if (reply[0] === FRAME_VALUE) this.cache.fillList(listKey, rawPrefix, reply.slice(1));
    return reply;
  }
}

/** The reads a peeked request records when taken: its raw keys (a list: its raw prefix) and their revisions. */
interface PeekedRead {
  readonly op: 'get' | 'getMany' | 'list';
  readonly raws: readonly string[];
  readonly revisions: readonly number[];
}

/** A call on a bucket the cache can name (anything else goes to the server as it is). */
type ReadCall = Call & { bucket: string };

/**
 * Recent requests, parsed: a script makes the same calls run after run (and
 * an engine's prefetch passes the very same texts), so most calls skip
 * JSON.parse. Entries are never changed after parsing. Cleared when full.
 */
const parsed = new Map<string, ReadCall | undefined>();
const MAX_PARSED = 4096;
const MAX_PARSED_CHARS = 1024;

function parseCall(request: string): ReadCall | undefined {
  const known = parsed.get(request);
  if (known !== undefined || parsed.has(request)) return known;
  let call: Call;
  try {
    call = JSON.parse(request) as Call;
  } catch {
    return undefined;
  }
  const ok =
    typeof call === 'object' && call !== null && typeof call.bucket === 'string' && !call.bucket.includes(SEPARATOR);
  const out = ok ? (call as ReadCall) : undefined;
  if (request.length <= MAX_PARSED_CHARS) {
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(request, out);
  }
  return out;
}
