/**
 * The storage conformance suite: every Backend runs all of it through
 * storageSuite (abstract-level's test/index.js is the model), skipping only
 * what its declared capabilities say it lacks. Tests never assume the store
 * starts empty or at revision 0 (views share a store with foreign keys), and
 * never look at anything but the Backend interface.
 */
import fc from 'fast-check';
import type { Backend, Capabilities, Change, KeyValue } from '../../src/storage/backend';

export interface FactoryOptions {
  /** Small windows let tests reach the edge of the retained history. */
  readonly historyRevisions?: number;
}

export interface Harness {
  /** An open backend. */
  readonly backend: Backend;
  /** Closes the backend and a fresh instance on the same data opens (persistent backends). */
  readonly reopen?: () => Promise<Backend>;
  /** Commits something the backend under test must never see (views only). */
  readonly interfere?: () => Promise<void>;
  cleanup(): Promise<void>;
}

export interface SuiteOptions {
  readonly name: string;
  readonly supports: Capabilities;
  readonly factory: (options?: FactoryOptions) => Promise<Harness>;
}

export const bytewise = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; details?: { key?: string } }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; details?: { key?: string } };
  }
  throw new Error('expected a rejection');
}

export async function readAll(backend: Backend, prefix = ''): Promise<KeyValue[]> {
  const snapshot = await backend.snapshot();
  try {
    return await snapshot.scan(prefix, { limit: 100000 });
  } finally {
    await snapshot.release();
  }
}

export async function read(backend: Backend, key: string): Promise<KeyValue | undefined> {
  const snapshot = await backend.snapshot();
  try {
    return await snapshot.get(key);
  } finally {
    await snapshot.release();
  }
}

export function storageSuite(options: SuiteOptions): void {
  const { name, supports, factory } = options;
  const use = async (fn: (h: Harness) => Promise<void>, factoryOptions?: FactoryOptions): Promise<void> => {
    const harness = await factory(factoryOptions);
    try {
      await fn(harness);
    } finally {
      await harness.cleanup();
    }
  };
  const put = (key: string, value: string) => ({ type: 'put' as const, key, value });
  const del = (key: string) => ({ type: 'delete' as const, key });

  describe(`storage conformance: ${name}`, () => {
    it('put then get returns the value with its create and mod revisions', () =>
      use(async ({ backend }) => {
        const { revision, applied } = await backend.commit([put('k', '{"a":1}')]);
        expect(applied).toEqual([true]);
        expect(await backend.currentRevision()).toBe(revision);
        expect(await read(backend, 'k')).toEqual({
          key: 'k',
          value: '{"a":1}',
          createRevision: revision,
          modRevision: revision,
        });
        expect(await read(backend, 'missing')).toBeUndefined();
      }));

    it('delete removes the key and reports applied=true', () =>
      use(async ({ backend }) => {
        await backend.commit([put('k', '{}')]);
        const { revision, applied } = await backend.commit([del('k')]);
        expect(applied).toEqual([true]);
        expect(await backend.currentRevision()).toBe(revision);
        expect(await read(backend, 'k')).toBeUndefined();
      }));

    it('revisions strictly increase store-wide; create_revision stays while mod_revision moves', () =>
      use(async ({ backend }) => {
        const r1 = (await backend.commit([put('a', '{"v":1}')])).revision;
        const r2 = (await backend.commit([put('b', '{"v":1}')])).revision;
        const r3 = (await backend.commit([put('a', '{"v":2}')])).revision;
        expect(r1).toBeGreaterThan(0);
        expect(r2).toBe(r1 + 1);
        expect(r3).toBe(r2 + 1);
        expect(await read(backend, 'a')).toMatchObject({ createRevision: r1, modRevision: r3, value: '{"v":2}' });
        expect(await read(backend, 'b')).toMatchObject({ createRevision: r2, modRevision: r2 });
        await backend.commit([del('a')]);
        const r5 = (await backend.commit([put('a', '{"v":3}')])).revision;
        expect(await read(backend, 'a')).toMatchObject({ createRevision: r5, modRevision: r5 });
      }));

    it('deleting a missing key consumes no revision and reports applied=false', () =>
      use(async ({ backend }) => {
        const before = (await backend.commit([put('x', '{}')])).revision;
        expect(await backend.commit([del('missing')])).toEqual({ revision: before, applied: [false] });
        expect(await backend.commit([])).toEqual({ revision: before, applied: [] });
        expect(await backend.currentRevision()).toBe(before);
        const mixed = await backend.commit([del('missing'), put('y', '{}')]);
        expect(mixed).toEqual({ revision: before + 1, applied: [false, true] });
      }));

    it('a modRevision 0 condition holds only while the key is absent', () =>
      use(async ({ backend }) => {
        const { revision } = await backend.commit([put('k', '{"n":1}')], [{ type: 'key', key: 'k', modRevision: 0 }]);
        const err = await rejection(backend.commit([put('k', '{"n":2}')], [{ type: 'key', key: 'k', modRevision: 0 }]));
        expect(err.code).toBe('CONDITION_FAILED');
        expect(err.details?.key).toBe('k');
        expect(await read(backend, 'k')).toMatchObject({ value: '{"n":1}', modRevision: revision });
      }));

    it('a matching mod revision lets the commit through; a stale one fails with CONDITION_FAILED and writes nothing', () =>
      use(async ({ backend }) => {
        const r1 = (await backend.commit([put('k', '{"n":1}')])).revision;
        const r2 = (await backend.commit([put('k', '{"n":2}')], [{ type: 'key', key: 'k', modRevision: r1 }])).revision;
        const err = await rejection(
          backend.commit([put('k', '{"n":3}'), put('other', '{}')], [{ type: 'key', key: 'k', modRevision: r1 }]),
        );
        expect(err.code).toBe('CONDITION_FAILED');
        expect(err.details?.key).toBe('k');
        expect(await backend.currentRevision()).toBe(r2);
        expect(await read(backend, 'k')).toMatchObject({ value: '{"n":2}', modRevision: r2 });
        expect(await read(backend, 'other')).toBeUndefined();
        const absent = await rejection(
          backend.commit([put('z', '{}')], [{ type: 'key', key: 'nope', modRevision: r1 }]),
        );
        expect(absent.details?.key).toBe('nope');
      }));

    it('a failing condition among several leaves every key of a multi-mutation commit untouched', () =>
      use(async ({ backend }) => {
        const r1 = (await backend.commit([put('a', '{"v":1}'), put('b', '{"v":1}'), put('c', '{"v":1}')])).revision;
        expect(await read(backend, 'c')).toMatchObject({ modRevision: r1, createRevision: r1 });
        const err = await rejection(
          backend.commit(
            [put('a', '{"v":2}'), del('b'), put('d', '{}')],
            [
              { type: 'key', key: 'a', modRevision: r1 },
              { type: 'key', key: 'c', modRevision: 0 },
            ],
          ),
        );
        expect(err.details?.key).toBe('c');
        expect((await readAll(backend)).map((kv) => [kv.key, kv.value])).toEqual([
          ['a', '{"v":1}'],
          ['b', '{"v":1}'],
          ['c', '{"v":1}'],
        ]);
        expect(await backend.currentRevision()).toBe(r1);
      }));

    it('a prefix guard fails after a put or a delete under the prefix, and holds when only other keys changed', () =>
      use(async ({ backend }) => {
        const r1 = (await backend.commit([put('p/a', '{}'), put('q', '{}')])).revision;
        await backend.commit([put('q', '{"v":2}'), put('p', '{}'), put('o/x', '{}')]);
        await backend.commit([put('g', '{}')], [{ type: 'prefix', prefix: 'p/', revision: r1 }]);
        const r4 = (await backend.commit([put('p/b', '{}')])).revision;
        const afterPut = await rejection(
          backend.commit([put('h', '{}')], [{ type: 'prefix', prefix: 'p/', revision: r1 }]),
        );
        expect(afterPut.code).toBe('CONDITION_FAILED');
        expect(afterPut.details?.key).toBe('p/b');
        await backend.commit([put('h', '{}')], [{ type: 'prefix', prefix: 'p/', revision: r4 }]);
        const r6 = (await backend.commit([del('p/a')])).revision;
        const afterDelete = await rejection(
          backend.commit([put('i', '{}')], [{ type: 'prefix', prefix: 'p/', revision: r4 + 1 }]),
        );
        expect(afterDelete.details?.key).toBe('p/a');
        expect(await read(backend, 'h')).toBeDefined();
        expect(await read(backend, 'i')).toBeUndefined();
        await backend.commit([put('i', '{}')], [{ type: 'prefix', prefix: 'p/', revision: r6 }]);
      }));

    it('a snapshot keeps its view across later commits, and getMany reads one snapshot', () =>
      use(async ({ backend, interfere }) => {
        const r1 = (await backend.commit([put('a', '{"v":1}'), put('b', '{"v":1}')])).revision;
        const snapshot = await backend.snapshot();
        expect(snapshot.revision).toBe(r1);
        await backend.commit([put('a', '{"v":2}'), del('b'), put('c', '{"v":1}')]);
        await interfere?.();
        expect(await snapshot.get('a')).toMatchObject({ value: '{"v":1}', modRevision: r1 });
        expect(await snapshot.getMany(['b', 'a', 'c', 'b'])).toEqual([
          { key: 'b', value: '{"v":1}', createRevision: r1, modRevision: r1 },
          { key: 'a', value: '{"v":1}', createRevision: r1, modRevision: r1 },
          undefined,
          { key: 'b', value: '{"v":1}', createRevision: r1, modRevision: r1 },
        ]);
        expect((await snapshot.scan('', { limit: 10 })).map((kv) => kv.key)).toEqual(['a', 'b']);
        await snapshot.release();
        await snapshot.release();
        expect((await readAll(backend)).map((kv) => kv.value)).toEqual(['{"v":2}', '{"v":1}']);
      }));

    it('a snapshot told the keys it reads first (a hint) reads what one without does, and keeps its view', () =>
      use(async ({ backend, interfere }) => {
        const r1 = (await backend.commit([put('a', '{"v":1}'), put('b', '{"v":1}')])).revision;
        const hinted = await backend.snapshot(['b', 'a', 'absent', 'b']);
        const plain = await backend.snapshot();
        expect(hinted.revision).toBe(r1);
        await backend.commit([put('a', '{"v":2}'), del('b'), put('c', '{"v":1}')]);
        await interfere?.();
        for (const keys of [['b', 'a', 'absent', 'b'], ['a'], ['c', 'a'], []]) {
          expect(await hinted.getMany(keys)).toEqual(await plain.getMany(keys));
        }
        expect(await hinted.get('a')).toMatchObject({ value: '{"v":1}', modRevision: r1 });
        expect(await hinted.get('c')).toBeUndefined();
        await Promise.all([hinted.release(), plain.release()]);
      }));

    it('scan orders keys bytewise (UTF-8), not by UTF-16 code units', () =>
      use(async ({ backend }) => {
        const keys = ['b', 'a', '\u00e9', '\uffff', '\u{1F600}', '\ue000', 'a\u{10FFFF}', 'a\uffff', 'A', 'a0', 'a/'];
        await backend.commit(keys.map((k) => put(k, '{}')));
        expect((await readAll(backend)).map((kv) => kv.key)).toEqual([...keys].sort(bytewise));
        expect((await readAll(backend, 'a')).map((kv) => kv.key)).toEqual(['a', 'a/', 'a0', 'a\uffff', 'a\u{10FFFF}']);
      }));

    it('scan pages with prefix, after and limit, and stops at the first key outside the prefix', () =>
      use(async ({ backend }) => {
        const inside = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(2, '0')}`);
        await backend.commit(
          [...inside, 'p', 'o/z', 'p0', 'p/\u{1F600}', 'q'].map((k) => put(k, `{"k":${JSON.stringify(k)}}`)),
        );
        const snapshot = await backend.snapshot();
        try {
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await snapshot.scan('p/', { after, limit: 7 });
            expect(page.length).toBeLessThanOrEqual(7);
            if (page.length === 0) break;
            seen.push(...page.map((kv) => kv.key));
            after = page[page.length - 1]?.key;
          }
          expect(seen).toEqual([...inside, 'p/\u{1F600}']);
          expect((await snapshot.scan('p/', { after: 'a', limit: 2 })).map((kv) => kv.key)).toEqual(['p/00', 'p/01']);
          expect(await snapshot.scan('p/', { after: 'p0', limit: 5 })).toEqual([]);
          expect(await snapshot.scan('nothing', { limit: 5 })).toEqual([]);
          expect(await snapshot.scan('p/', { limit: 0 })).toEqual([]);
        } finally {
          await snapshot.release();
        }
      }));

    it('keysOnly scans return keys and revisions with empty values', () =>
      use(async ({ backend }) => {
        const { revision } = await backend.commit([put('k1', '{"big":1}'), put('k2', '{}')]);
        const snapshot = await backend.snapshot();
        expect(await snapshot.scan('k', { limit: 10, keysOnly: true })).toEqual([
          { key: 'k1', value: '', createRevision: revision, modRevision: revision },
          { key: 'k2', value: '', createRevision: revision, modRevision: revision },
        ]);
        await snapshot.release();
      }));

    it('a 1 MiB value round-trips exactly, and values are stored verbatim', () =>
      use(async ({ backend }) => {
        const big = JSON.stringify({ s: 'x\u00e9\u{1F600}'.repeat(Math.floor((1024 * 1024 - 8) / 7)) });
        const verbatim = [
          '{"n":9007199254740993}',
          '{ "a" : 1.50 ,"b":[ ] }',
          '{"e":"\\u00e9\\ud83d\\ude00","f":1e400}',
        ];
        await backend.commit([put('big', big), ...verbatim.map((v, i) => put(`v${i}`, v))]);
        expect((await read(backend, 'big'))?.value === big).toBe(true);
        for (const [i, v] of verbatim.entries()) expect((await read(backend, `v${i}`))?.value).toBe(v);
        const changes = await backend.changesSince((await backend.currentRevision()) - 1, 10);
        expect(changes.find((c) => c.key === 'big')?.value === big).toBe(true);
      }));

    const withHistory = supports.history ? it : it.skip;

    withHistory('changesSince returns every commit once, in order, one revision per commit, never split', () =>
      use(async ({ backend, interfere }) => {
        const r0 = await backend.currentRevision();
        const r1 = (await backend.commit([put('a', '{"v":1}'), put('b', '{}')])).revision;
        await interfere?.();
        const r2 = (await backend.commit([del('a'), del('missing')])).revision;
        await backend.commit([del('missing')]);
        const r3 = (await backend.commit([put('c', '{}')])).revision;
        const expected: Change[] = [
          { type: 'put', key: 'a', value: '{"v":1}', revision: r1 },
          { type: 'put', key: 'b', value: '{}', revision: r1 },
          { type: 'delete', key: 'a', value: '', revision: r2 },
          { type: 'put', key: 'c', value: '{}', revision: r3 },
        ];
        expect(await backend.changesSince(r0, 1000)).toEqual(expected);
        expect(await backend.changesSince(r0, 1)).toEqual(expected.slice(0, 2));
        expect(await backend.changesSince(r1, 1)).toEqual(expected.slice(2, 3));
        expect(await backend.changesSince(r2, 5)).toEqual(expected.slice(3));
        expect(await backend.changesSince(r3, 5)).toEqual([]);
      }),
    );

    withHistory('subscribe delivers every commit once, in order, until unsubscribed', () =>
      use(async ({ backend, interfere }) => {
        const seen: Change[][] = [];
        const unsubscribe = backend.subscribe((changes) => seen.push([...changes]));
        const r1 = (await backend.commit([put('a', '{}'), put('b', '{}')])).revision;
        await interfere?.();
        await backend.commit([del('missing')]);
        const r2 = (await backend.commit([del('a')])).revision;
        await eventually(() => expect(seen).toHaveLength(2));
        expect(seen).toEqual([
          [
            { type: 'put', key: 'a', value: '{}', revision: r1 },
            { type: 'put', key: 'b', value: '{}', revision: r1 },
          ],
          [{ type: 'delete', key: 'a', value: '', revision: r2 }],
        ]);
        unsubscribe();
        unsubscribe();
        await backend.commit([put('z', '{}')]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(seen).toHaveLength(2);
      }),
    );

    withHistory('history older than the retained window is COMPACTED, and prefix guards that old fail', () =>
      use(
        async ({ backend }) => {
          for (let i = 0; i < 6; i++) await backend.commit([put(`k${i}`, '{}')]);
          const current = await backend.currentRevision();
          const oldest = await backend.oldestRetainedRevision();
          expect(oldest).toBe(current - 2);
          expect((await rejection(backend.changesSince(oldest - 2, 10))).code).toBe('COMPACTED');
          expect((await backend.changesSince(oldest - 1, 10)).map((c) => c.key)).toEqual(['k3', 'k4', 'k5']);
          const guard = (revision: number) => [{ type: 'prefix' as const, prefix: 'none/', revision }];
          expect((await rejection(backend.commit([put('x', '{}')], guard(oldest - 2)))).code).toBe('CONDITION_FAILED');
          await backend.commit([put('x', '{}')], guard(oldest - 1));
        },
        { historyRevisions: 3 },
      ),
    );

    it('close is safe twice, waits for in-flight commits, and operations after close reject', () =>
      use(async ({ backend }) => {
        const pending = backend.commit([put('k', '{}')]);
        await backend.close();
        await backend.close();
        expect((await pending).applied).toEqual([true]);
        expect(backend.status).toBe('closed');
        for (const op of [backend.commit([put('k', '{}')]), backend.snapshot(), backend.currentRevision()]) {
          expect((await rejection(op)).code).toBe('UNAVAILABLE');
        }
        await backend.open();
        expect(backend.status).toBe('open');
      }));

    (supports.persistent ? it : it.skip)('reopen keeps data and the revision continues', () =>
      use(async (h) => {
        const { revision } = await h.backend.commit([put('k', '{"v":1}'), put('j', '{}')]);
        await h.backend.commit([del('j')]);
        const reopened = h.reopen === undefined ? h.backend : await h.reopen();
        if (h.reopen === undefined) {
          await h.backend.close();
          await h.backend.open();
        }
        expect(await reopened.currentRevision()).toBe(revision + 1);
        expect(await read(reopened, 'k')).toMatchObject({ value: '{"v":1}', createRevision: revision });
        expect(await read(reopened, 'j')).toBeUndefined();
        expect((await reopened.commit([put('k', '{"v":2}')])).revision).toBe(revision + 2);
      }),
    );

    it('getManySync, where supports.getManySync declares it, answers exactly as getMany at the same snapshot', () =>
      use(async ({ backend }) => {
        await backend.commit([put('s1', '{"v":1}'), put('s2', '{"v":1}')]);
        const snap = await backend.snapshot();
        try {
          await backend.commit([put('s1', '{"v":2}'), del('s2'), put('s3', '{}')]);
          const keys = ['s1', 's2', 's3', 'absent'];
          const viaAsync = await snap.getMany(keys);
          expect(viaAsync.map((kv) => kv?.value)).toEqual(['{"v":1}', '{"v":1}', undefined, undefined]);
          if (supports.getManySync) expect(snap.getManySync(keys)).toEqual(viaAsync);
          else expect(() => snap.getManySync(keys)).toThrow();
        } finally {
          await snap.release();
        }
        expect(() => snap.getManySync(['s1'])).toThrow();
      }));

    it('concurrent commits behave as if applied one at a time, in revision order', () =>
      use(async ({ backend }) => {
        const r0 = (await backend.commit([put('seed', '{}')])).revision;
        const settle = async (p: Promise<{ revision: number; applied: readonly boolean[] }>) => {
          try {
            return { ok: true as const, ...(await p) };
          } catch (err) {
            return { ok: false as const, code: (err as { code?: string }).code };
          }
        };
        // Fired together: backends may apply them in one group or one by one, never differently.
        const outcomes = await Promise.all([
          settle(backend.commit([put('g/x', '{"by":"a"}')])),
          settle(backend.commit([put('q', '{"by":"b"}')], [{ type: 'prefix', prefix: 'g/', revision: r0 }])),
          settle(backend.commit([put('c', '{"by":"c"}')], [{ type: 'key', key: 'c', modRevision: 0 }])),
          settle(backend.commit([put('c', '{"by":"d"}')], [{ type: 'key', key: 'c', modRevision: 0 }])),
          settle(backend.commit([del('nothing-here')])),
          settle(backend.commit([put('e', '{"n":1}'), del('e'), put('e', '{"n":2}')])),
          ...Array.from({ length: 20 }, (_, i) => settle(backend.commit([put(`w${i}`, `{"i":${i}}`)]))),
        ]);
        const [a, b, c, d, none, e] = outcomes;
        expect(a).toMatchObject({ ok: true, applied: [true] });
        // b's guard at r0 holds only if b was applied before a changed g/.
        if (b?.ok) expect(b.revision).toBeLessThan((a as { revision: number }).revision);
        else expect(b).toEqual({ ok: false, code: 'CONDITION_FAILED' });
        expect([c?.ok, d?.ok].filter(Boolean)).toHaveLength(1);
        expect(c?.ok ? d : c).toEqual({ ok: false, code: 'CONDITION_FAILED' });
        expect(none).toMatchObject({ ok: true, applied: [false] });
        expect(e).toMatchObject({ ok: true, applied: [true, true, true] });
        // Every commit that changed something has its own revision, r0+1 onwards, with no gaps.
        const changed = outcomes.filter((o) => o.ok && o.applied.some(Boolean)) as { revision: number }[];
        const revisions = changed.map((o) => o.revision).sort((x, y) => x - y);
        expect(revisions).toEqual(Array.from({ length: changed.length }, (_, i) => r0 + 1 + i));
        expect(await backend.currentRevision()).toBe(r0 + changed.length);
        const winner = c?.ok ? '{"by":"c"}' : '{"by":"d"}';
        expect((await backend.get('c'))?.value).toBe(winner);
        expect(await backend.get('e')).toMatchObject({
          value: '{"n":2}',
          modRevision: (e as { revision: number }).revision,
        });
        expect((await backend.get('q'))?.value).toBe(b?.ok ? '{"by":"b"}' : undefined);
        if (supports.history) {
          // The history holds each commit under the revision its caller was told.
          const history = await eventuallyValue(
            () => backend.changesSince(r0, 1000),
            (h) => h.length >= changed.length + 2,
          );
          for (const o of outcomes) {
            if (!o.ok || !o.applied.some(Boolean)) continue;
            expect(history.some((h) => h.revision === o.revision)).toBe(true);
          }
          const ofE = history.filter((h) => h.key === 'e');
          expect(new Set(ofE.map((h) => h.revision))).toEqual(new Set([(e as { revision: number }).revision]));
          expect(ofE[ofE.length - 1]).toMatchObject({ type: 'put', value: '{"n":2}' });
        }
      }));

    it('get reads the latest committed version, like a fresh snapshot', () =>
      use(async ({ backend }) => {
        expect(await backend.get('g')).toBeUndefined();
        const r1 = (await backend.commit([put('g', '{"v":1}')])).revision;
        expect(await backend.get('g')).toEqual({ key: 'g', value: '{"v":1}', createRevision: r1, modRevision: r1 });
        const r2 = (await backend.commit([put('g', '{"v":2}')])).revision;
        expect(await backend.get('g')).toEqual({ key: 'g', value: '{"v":2}', createRevision: r1, modRevision: r2 });
        await backend.commit([del('g')]);
        expect(await backend.get('g')).toBeUndefined();
        const r4 = (await backend.commit([put('g', '{"v":3}')])).revision;
        expect(await backend.get('g')).toEqual({ key: 'g', value: '{"v":3}', createRevision: r4, modRevision: r4 });
        expect(await backend.get('g')).toEqual(await read(backend, 'g'));
      }));

    it('reads racing commits see either side of each commit, and snapshots stay at their revision', () =>
      use(async ({ backend }) => {
        const base = (await backend.commit([put('r', '{"n":0}'), put('s', '{"n":0}')])).revision;
        const held = await backend.snapshot();
        try {
          for (let n = 1; n <= 60; n++) {
            const before = `{"n":${n - 1}}`;
            const after = `{"n":${n}}`;
            // Warm whatever the backend keeps of 'r', then race a commit against reads of it.
            await backend.get('r');
            const committing = backend.commit(
              n % 3 === 0 ? [del('r'), put('s', after)] : [put('r', after), put('s', after)],
            );
            // Let the commit get part of the way (e.g. applied but not yet acknowledged) before reading.
            for (let i = 0; i < n % 4; i++) await new Promise((resolve) => setImmediate(resolve));
            const during = await backend.get('r');
            const snap = await backend.snapshot();
            const { revision } = await committing;
            try {
              const expectedR = n % 3 === 0 ? undefined : after;
              const previousR = (n - 1) % 3 === 0 && n > 1 ? undefined : before;
              expect([previousR, expectedR]).toContain(during?.value);
              const inSnap = await snap.getMany(['r', 's']);
              if (snap.revision >= revision) {
                expect(inSnap.map((kv) => kv?.value)).toEqual([expectedR, after]);
              } else {
                expect(inSnap.map((kv) => kv?.value)).toEqual([previousR, before]);
              }
              expect((await backend.get('r'))?.value).toBe(expectedR);
              expect((await backend.get('s'))?.value).toBe(after);
              // The snapshot taken before the loop never moves.
              expect((await held.getMany(['r', 's'])).map((kv) => kv?.value)).toEqual(['{"n":0}', '{"n":0}']);
              expect(held.revision).toBe(base);
            } finally {
              await snap.release();
            }
          }
        } finally {
          await held.release();
        }
      }));

    it('get and held snapshots agree with a versioned model under random commits (property)', async () => {
      const keys = ['a', 'b', 'c'];
      const op = fc.oneof(
        fc.record({ kind: fc.constant('put' as const), key: fc.constantFrom(...keys), n: fc.nat(9) }),
        fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
        fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom(...keys) }),
        fc.record({ kind: fc.constant('snapshot' as const) }),
        fc.record({ kind: fc.constant('readSnapshot' as const), which: fc.nat(7), key: fc.constantFrom(...keys) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 30 }), (ops) =>
          use(async ({ backend }) => {
            const now = new Map<string, string>();
            const snaps: { snap: Awaited<ReturnType<Backend['snapshot']>>; view: Map<string, string> }[] = [];
            try {
              for (const o of ops) {
                if (o.kind === 'put') {
                  await backend.commit([put(o.key, `{"n":${o.n}}`)]);
                  now.set(o.key, `{"n":${o.n}}`);
                } else if (o.kind === 'delete') {
                  await backend.commit([del(o.key)]);
                  now.delete(o.key);
                } else if (o.kind === 'get') {
                  expect((await backend.get(o.key))?.value).toBe(now.get(o.key));
                } else if (o.kind === 'snapshot') {
                  snaps.push({ snap: await backend.snapshot(), view: new Map(now) });
                } else if (snaps.length > 0) {
                  const { snap, view } = snaps[o.which % snaps.length] as (typeof snaps)[number];
                  expect((await snap.get(o.key))?.value).toBe(view.get(o.key));
                }
              }
            } finally {
              for (const { snap } of snaps) await snap.release();
            }
          }),
        ),
        { numRuns: 40 },
      );
    });

    it('random commits agree with a simple model (property)', async () => {
      const keys = ['a', 'b', 'ab', 'a/b', '\u00e9', '\uffff', '\u{1F600}'];
      const mutation = fc.oneof(
        fc.record({
          type: fc.constant('put' as const),
          key: fc.constantFrom(...keys),
          value: fc.nat(99).map((n) => `{"n":${n}}`),
        }),
        fc.record({ type: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
      );
      const step = fc.record({
        mutations: fc.array(mutation, { maxLength: 3 }),
        guard: fc.option(fc.record({ key: fc.constantFrom(...keys), stale: fc.boolean() })),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 12 }), (steps) =>
          use(async ({ backend }) => {
            const model = new Map<string, { value: string; createRevision: number; modRevision: number }>();
            let revision = await backend.currentRevision();
            for (const { mutations, guard } of steps) {
              const mod = guard === null ? 0 : (model.get(guard.key)?.modRevision ?? 0) + (guard.stale ? 1 : 0);
              const conditions = guard === null ? [] : [{ type: 'key' as const, key: guard.key, modRevision: mod }];
              if (guard?.stale) {
                expect((await rejection(backend.commit(mutations, conditions))).code).toBe('CONDITION_FAILED');
                continue;
              }
              const next = revision + 1;
              const applied = mutations.map((m) => {
                const had = model.get(m.key);
                if (m.type === 'delete') return model.delete(m.key);
                model.set(m.key, { value: m.value, createRevision: had?.createRevision ?? next, modRevision: next });
                return true;
              });
              if (applied.some((a) => a)) revision = next;
              expect(await backend.commit(mutations, conditions)).toEqual({ revision, applied });
            }
            const expected = [...model].sort(([a], [b]) => bytewise(a, b)).map(([key, kv]) => ({ key, ...kv }));
            expect(await readAll(backend)).toEqual(expected);
          }),
        ),
        { numRuns: 25 },
      );
    });
  });
}

/** Waits until `check` passes: remote backends may deliver subscriptions asynchronously. */
export async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** Polls `read` until `done` accepts its value (remote backends catch up asynchronously). */
export async function eventuallyValue<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 2000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export type { Change };
