import { ABSENT, ReadCache } from '../../src/storage/read-cache';

describe('ReadCache', () => {
  it('answers a revision only from the entry’s validFrom on', () => {
    const cache = new ReadCache(1 << 20);
    cache.fill('k', '3,7,{}', 7);
    expect(cache.lookup('k', 6)).toBeUndefined();
    expect(cache.lookup('k', 7)).toBe('3,7,{}');
    expect(cache.latest('k')).toBe('3,7,{}');
    cache.fill('gone', ABSENT, 9);
    expect(cache.lookup('gone', 8)).toBeUndefined();
    expect(cache.lookup('gone', 9)).toBe(ABSENT);
  });

  it('a commit drops its keys, blocks fills while in flight, then writes the new version through', () => {
    const cache = new ReadCache(1 << 20);
    cache.fill('k', '1,1,{"v":1}', 1);
    cache.begin(['k', 'new']);
    expect(cache.latest('k')).toBeUndefined();
    expect(cache.isInFlight('k')).toBe(true);
    cache.fill('k', '1,1,{"v":1}', 1);
    expect(cache.latest('k')).toBeUndefined();
    cache.end([
      ['k', ['1,2,{"v":2}', 2]],
      ['new', [ABSENT, 2]],
    ]);
    expect(cache.isInFlight('k')).toBe(false);
    expect(cache.lookup('k', 1)).toBeUndefined();
    expect(cache.lookup('k', 2)).toBe('1,2,{"v":2}');
    expect(cache.latest('new')).toBe(ABSENT);
  });

  it('a failed commit clears the in-flight marks without restoring what it dropped', () => {
    const cache = new ReadCache(1 << 20);
    cache.fill('k', '1,1,{}', 1);
    cache.begin(['k']);
    cache.fail();
    expect(cache.isInFlight('k')).toBe(false);
    expect(cache.latest('k')).toBeUndefined();
  });

  it('stays within its byte budget, evicting the oldest entries first', () => {
    const cache = new ReadCache(2000);
    for (let i = 0; i < 100; i++) cache.fill(`k${i}`, `1,1,{"v":"${'x'.repeat(50)}"}`, 1);
    expect(cache.size).toBeGreaterThan(0);
    expect(cache.size).toBeLessThan(20);
    expect(cache.latest('k99')).toBeDefined();
    expect(cache.latest('k0')).toBeUndefined();
    const kept = cache.size;
    const oldest = `k${100 - kept}`;
    expect(cache.latest(oldest)).toBeDefined();
    cache.fill('k100', `1,1,{"v":"${'x'.repeat(50)}"}`, 1);
    expect(cache.latest('k100')).toBeDefined();
    expect(cache.latest(oldest)).toBeUndefined();
    expect(cache.latest('k99')).toBeDefined();
    expect(cache.size).toBeLessThanOrEqual(kept + 1);
  });

  it('with a zero budget caches nothing', () => {
    const cache = new ReadCache(0);
    cache.fill('k', '1,1,{}', 1);
    cache.end([['j', ['1,2,{}', 2]]]);
    expect(cache.size).toBe(0);
  });
});
