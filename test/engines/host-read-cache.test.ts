/**
 * The engine host's read cache on its own: revision semantics, invalidation
 * by key and by prefix, the byte bound; then the run's cached bridge in front
 * of a fake server (what it answers locally, what it forwards, the read set
 * it reports), and the 'read' answer's framing.
 */
import { CachedBridge } from '../../engines/host/cached-bridge';
import { formatRead, parseRead } from '../../engines/host/read-answer';
import { HostReadCache } from '../../engines/host/read-cache';

describe('HostReadCache', () => {
  it('serves nothing until it has been brought to a revision', () => {
    const cache = new HostReadCache(1 << 20);
    cache.fill('b/k', '{"v":1}', 3);
    expect(cache.get('b/k')).toBeUndefined();
    cache.advance(5, 'all');
    cache.fill('b/k', '{"v":1}', 3);
    expect(cache.get('b/k')).toEqual({ value: '{"v":1}', modRevision: 3 });
    expect(cache.revision).toBe(5);
  });

  it('advancing drops exactly the changed keys, and the lists over them', () => {
    const cache = new HostReadCache(1 << 20);
    cache.advance(1, 'all');
    cache.fill('b/a', '{"v":1}', 1);
    cache.fill('b/b', 'null', 0);
    cache.fill('c/a', '{"v":2}', 1);
    cache.fillList('L1', 'b/', '[]');
    cache.fillList('L2', 'c/x', '[]');
    cache.advance(2, ['b/b']);
    expect(cache.get('b/a')).toBeDefined();
    expect(cache.get('b/b')).toBeUndefined();
    expect(cache.get('c/a')).toBeDefined();
    expect(cache.getList('L1')).toBeUndefined();
    expect(cache.getList('L2')).toBe('[]');
    cache.advance(3, ['c/xy']);
    expect(cache.getList('L2')).toBeUndefined();
    expect(cache.get('c/a')).toBeDefined();
  });

  it('a reset or a revision that goes backwards empties it', () => {
    const cache = new HostReadCache(1 << 20);
    cache.advance(4, 'all');
    cache.fill('b/a', '{}', 2);
    cache.advance(3, []);
    expect(cache.get('b/a')).toBeUndefined();
    cache.fill('b/a', '{}', 2);
    cache.advance(9, 'all');
    expect(cache.get('b/a')).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('stays within its byte bound, dropping the oldest entries first', () => {
    const cache = new HostReadCache(2000);
    cache.advance(1, 'all');
    const value = JSON.stringify({ pad: 'x'.repeat(100) });
    for (let i = 0; i < 50; i++) {
      cache.fill(`b/k${i}`, value, 1);
      expect(cache.bytes).toBeLessThanOrEqual(2000);
    }
    expect(cache.get('b/k49')).toBeDefined();
    expect(cache.get('b/k0')).toBeUndefined();
    // An entry larger than the whole cache is not kept, and pushes nothing out.
    cache.fill('b/huge', JSON.stringify({ pad: 'y'.repeat(5000) }), 1);
    expect(cache.get('b/huge')).toBeUndefined();
    expect(cache.get('b/k49')).toBeDefined();
  });
});

describe('read answers', () => {
  it('carry values verbatim, whatever their characters or numbers', () => {
    const values = ['{"n":12345678901234567890}', 'null', '{"s":"é\\n😀\\u0000"}', '{"x":1.0e3}'];
    const text = formatRead(values.map((v, i) => [i, v] as const));
    expect(parseRead(`v${text}`, values.length)).toEqual(values.map((v, i) => [i, v]));
  });

  it('a malformed answer is refused, not half-read', () => {
    expect(parseRead('v[1,2]\n{}', 1)).toEqual([[1, '{}']]);
    expect(parseRead('v[1,3]\n{}', 1)).toBeUndefined();
    expect(parseRead('v[1,2]\n{}x', 1)).toBeUndefined();
    expect(parseRead('v[1]\n', 1)).toBeUndefined();
    expect(parseRead('v[1,2]', 1)).toBeUndefined();
    expect(parseRead('v[1.5,2]\n{}', 1)).toBeUndefined();
  });
});

/** A fake server: answers the bridge from a map at one revision, and logs what reached it. */
function fakeServer(store: Map<string, [number, string]>) {
  const seen: string[] = [];
  const upstream = {
    call(request: string): string {
      seen.push(request);
      if (request[0] !== '{') return 'emalformed bridge call';
      const call = JSON.parse(request) as { op: string; bucket: string; key?: string; keys?: string[] };
      if (call.bucket === 'bad') return 'einvalid bucket';
      switch (call.op) {
        case 'read':
          return `v${formatRead((call.keys ?? []).map((k) => store.get(`${call.bucket}/${k}`) ?? [0, 'null']))}`;
        case 'get':
          return `v${store.get(`${call.bucket}/${call.key}`)?.[1] ?? 'null'}`;
        case 'list':
          return 'v[["a",{"v":1}]]';
        default:
          return 'vnull';
      }
    },
  };
  return { upstream, seen };
}

describe('CachedBridge', () => {
  const store = new Map<string, [number, string]>([
    ['b/a', [3, '{"v":"a"}']],
    ['b/b', [4, '{"v":"b"}']],
  ]);

  function fresh(): { cache: HostReadCache; server: ReturnType<typeof fakeServer> } {
    const cache = new HostReadCache(1 << 20);
    cache.advance(10, 'all');
    return { cache, server: fakeServer(store) };
  }

  it('a miss crosses once as a read with revisions; the same read next run is answered locally and reported', () => {
    const { cache, server } = fresh();
    const first = new CachedBridge(cache, server.upstream, 100);
    expect(first.call('{"op":"getMany","bucket":"b","keys":["a","zz","a"]}')).toBe('v[{"v":"a"},null,{"v":"a"}]');
    expect(server.seen).toEqual(['{"op":"read","bucket":"b","keys":["a","zz"]}']);
    // The server recorded the keys it answered: only the call is reported.
    expect(first.readSet()).toEqual({ keys: [], prefixes: [], calls: { get: 0, getMany: 1, list: 0 } });
    const second = new CachedBridge(cache, server.upstream, 100);
    expect(second.call('{"op":"get","bucket":"b","key":"a"}')).toBe('v{"v":"a"}');
    expect(second.call('{"op":"get","bucket":"b","key":"zz"}')).toBe('vnull');
    expect(server.seen).toHaveLength(1);
    expect(second.readSet()).toEqual({
      keys: [
        ['b/a', 3],
        ['b/zz', 0],
      ],
      prefixes: [],
      calls: { get: 2, getMany: 0, list: 0 },
    });
  });

  it("a run's own writes are read back as written, never cached, and reads before them stay in the read set", () => {
    const { cache, server } = fresh();
    new CachedBridge(cache, server.upstream, 100).call('{"op":"get","bucket":"b","key":"a"}');
    const run = new CachedBridge(cache, server.upstream, 100);
    expect(run.call('{"op":"get","bucket":"b","key":"a"}')).toBe('v{"v":"a"}');
    expect(run.call('{"op":"put","bucket":"b","key":"a","value":"{\\"v\\":\\"mine\\"}"}')).toBe('vnull');
    expect(run.call('{"op":"get","bucket":"b","key":"a"}')).toBe('v{"v":"mine"}');
    expect(run.call('{"op":"delete","bucket":"b","key":"a"}')).toBe('vnull');
    expect(run.call('{"op":"getMany","bucket":"b","keys":["a"]}')).toBe('v[null]');
    expect(cache.get('b/a')).toEqual({ value: '{"v":"a"}', modRevision: 3 });
    expect(run.readSet()).toEqual({ keys: [['b/a', 3]], prefixes: [], calls: { get: 2, getMany: 1, list: 0 } });
  });

  it('lists are kept whole and reported by prefix, unless the run wrote under the prefix', () => {
    const { cache, server } = fresh();
    const list = '{"op":"list","bucket":"b","prefix":"p","limit":10,"startAfter":null}';
    new CachedBridge(cache, server.upstream, 100).call(list);
    const run = new CachedBridge(cache, server.upstream, 100);
    expect(run.call(list)).toBe('v[["a",{"v":1}]]');
    expect(server.seen).toHaveLength(1);
    expect(run.readSet()).toEqual({ keys: [], prefixes: ['b/p'], calls: { get: 0, getMany: 0, list: 1 } });
    run.call('{"op":"put","bucket":"b","key":"p1","value":"{}"}');
    run.call(list);
    expect(server.seen.filter((s) => s === list)).toHaveLength(2);
  });

  it('what it cannot answer exactly as the server would goes to the server unchanged', () => {
    const { cache, server } = fresh();
    const bridge = new CachedBridge(cache, server.upstream, 2);
    const odd = [
      '{"op":"get","bucket":"b/x","key":"a"}',
      '{"op":"get","bucket":"b","key":5}',
      '{"op":"getMany","bucket":"b","keys":["a","b","a"]}',
      '{"op":"getMany","bucket":"b","keys":"a"}',
      'not json',
      '{"op":"nope","bucket":"b"}',
    ];
    for (const request of odd) bridge.call(request);
    expect(server.seen).toEqual(odd);
    expect(bridge.call('{"op":"get","bucket":"bad","key":"a"}')).toBe('einvalid bucket');
  });

  it('a malformed read answer is an error the script sees, and fills nothing', () => {
    const cache = new HostReadCache(1 << 20);
    cache.advance(1, 'all');
    const bridge = new CachedBridge(cache, { call: () => 'vgarbage' }, 100);
    expect(bridge.call('{"op":"get","bucket":"b","key":"a"}')[0]).toBe('e');
    expect(cache.size).toBe(0);
  });

  it('peek answers what the cache holds without recording or crossing, and nothing it cannot answer whole', () => {
    const { cache, server } = fresh();
    const warm = new CachedBridge(cache, server.upstream, 100);
    warm.call('{"op":"getMany","bucket":"b","keys":["a","zz"]}');
    warm.call('{"op":"list","bucket":"b","prefix":"","limit":10,"startAfter":null}');
    const seen = server.seen.length;
    const run = new CachedBridge(cache, server.upstream, 100);
    expect(run.peek('{"op":"get","bucket":"b","key":"a"}')).toBe('v{"v":"a"}');
    expect(run.peek('{"op":"getMany","bucket":"b","keys":["zz","a"]}')).toBe('v[null,{"v":"a"}]');
    expect(run.peek('{"op":"list","bucket":"b","prefix":"","limit":10,"startAfter":null}')).toBe('v[["a",{"v":1}]]');
    // Not all in the cache, not a read, not well formed: no answer.
    expect(run.peek('{"op":"getMany","bucket":"b","keys":["a","b"]}')).toBeUndefined();
    expect(run.peek('{"op":"put","bucket":"b","key":"a","value":"{}"}')).toBeUndefined();
    expect(run.peek('{"op":"get","bucket":"b/x","key":"a"}')).toBeUndefined();
    expect(run.peek('not json')).toBeUndefined();
    expect(server.seen).toHaveLength(seen);
    expect(run.readSet()).toBeUndefined();
    // After the run writes a key, a read of it is the server's to answer (its own write), not the cache's.
    run.call('{"op":"put","bucket":"b","key":"a","value":"{\\"v\\":2}"}');
    expect(run.peek('{"op":"get","bucket":"b","key":"a"}')).toBeUndefined();
    expect(run.peek('{"op":"list","bucket":"b","prefix":"","limit":10,"startAfter":null}')).toBeUndefined();
  });

  it('taken records exactly what call would for peeked reads, in order, and falls back to call once the run wrote', () => {
    const { cache, server } = fresh();
    const warm = new CachedBridge(cache, server.upstream, 100);
    warm.call('{"op":"getMany","bucket":"b","keys":["a","zz","c"]}');
    warm.call('{"op":"list","bucket":"b","prefix":"","limit":10,"startAfter":null}');
    const requests = [
      '{"op":"get","bucket":"b","key":"a"}',
      '{"op":"getMany","bucket":"b","keys":["zz","a","zz","c"]}',
      '{"op":"list","bucket":"b","prefix":"","limit":10,"startAfter":null}',
      '{"op":"get","bucket":"b","key":"zz"}',
    ];
    const byCall = new CachedBridge(cache, server.upstream, 100);
    for (const r of requests) byCall.call(r);
    const byTaken = new CachedBridge(cache, server.upstream, 100);
    for (const r of requests) expect(byTaken.peek(r)).toBeDefined();
    // Taken in another order than peeked: recorded in the order taken, as calls would be.
    for (const r of [...requests].reverse()) byTaken.taken(r);
    const reversed = new CachedBridge(cache, server.upstream, 100);
    for (const r of [...requests].reverse()) reversed.call(r);
    expect(byTaken.readSet()).toEqual(reversed.readSet());
    expect(new Map(byTaken.readSet()?.keys)).toEqual(new Map(byCall.readSet()?.keys));
    expect(byTaken.readSet()?.calls).toEqual({ get: 2, getMany: 1, list: 1 });
    const seen = server.seen.length;
    // A request peek() did not answer, or one taken after the run wrote, goes through call().
    const wrote = new CachedBridge(cache, server.upstream, 100);
    wrote.peek('{"op":"get","bucket":"b","key":"a"}');
    wrote.call('{"op":"put","bucket":"b","key":"a","value":"{\\"v\\":2}"}');
    wrote.taken('{"op":"get","bucket":"b","key":"a"}');
    wrote.taken('{"op":"get","bucket":"b","key":"c"}');
    expect(wrote.readSet()).toEqual({ keys: [['b/c', 0]], prefixes: [], calls: { get: 2, getMany: 0, list: 0 } });
    expect(server.seen.slice(seen).map((s) => (JSON.parse(s) as { op: string }).op)).toEqual(['put']);
  });
});
