/**
 * Group commit (core.ts) keeps every guarantee of one-at-a-time commits, on
 * the memory backend and the real LevelDB: commits fired concurrently get
 * exactly the outcomes and revisions that applying them one by one in
 * arrival order gives; conflicting guarded puts have exactly one winner;
 * subscribers see every commit once, whole, in revision order; and a failed
 * batch write fails every commit it carried and leaves nothing written.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, Change, CommitResult, Condition, Mutation } from '../../src/storage/backend';
import { LevelDbBackend } from '../../src/storage/leveldb';
import { MemoryBackend } from '../../src/storage/memory';

interface Made {
  readonly backend: Backend;
  /** Makes the next batch write fail (LevelDB: its chained batch's write rejects; memory: the hook throws). */
  failNextWrite(): void;
  cleanup(): Promise<void>;
}

async function make(kind: string): Promise<Made> {
  let fail = false;
  if (kind === 'memory') {
    const backend = new MemoryBackend();
    const hooks = backend as unknown as { _write(batch: unknown): void };
    const write = hooks._write.bind(backend);
    hooks._write = (batch) => {
      if (fail) {
        fail = false;
        throw new Error('injected write failure');
      }
      write(batch);
    };
    await backend.open();
    return { backend, failNextWrite: () => (fail = true), cleanup: () => backend.close() };
  }
  const location = await mkdtemp(join(tmpdir(), 'lucien-group-'));
  const backend = new LevelDbBackend({ location });
  await backend.open();
  // The fault is LevelDB's own: the real chained batch, whose write is refused.
  const db = (backend as unknown as { db: { batch(): { write(o?: unknown): Promise<void>; close(): Promise<void> } } })
    .db;
  const batch = db.batch.bind(db);
  db.batch = () => {
    const ops = batch();
    if (fail) {
      fail = false;
      ops.write = async () => {
        await ops.close();
        throw new Error('injected write failure');
      };
    }
    return ops;
  };
  return {
    backend,
    failNextWrite: () => (fail = true),
    cleanup: async () => {
      await backend.close();
      await rm(location, { recursive: true, force: true });
    },
  };
}

interface Commit {
  readonly mutations: Mutation[];
  readonly conditions: Condition[];
}

type Outcome = { ok: true; revision: number; applied: boolean[] } | { ok: false };

/** Applies commits one at a time, in order: what a store without group commit answers. */
function sequential(commits: readonly Commit[], start: number): Outcome[] {
  const state = new Map<string, number>();
  let revision = start;
  return commits.map(({ mutations, conditions }) => {
    const holds = conditions.every((c) =>
      c.type === 'key' ? (c.modRevision === 0 ? !state.has(c.key) : state.get(c.key) === c.modRevision) : true,
    );
    if (!holds) return { ok: false };
    const next = revision + 1;
    const applied = mutations.map((m) => {
      if (m.type === 'put') return state.set(m.key, next) !== undefined;
      return state.delete(m.key);
    });
    if (applied.some((a) => a)) revision = next;
    return { ok: true, revision, applied };
  });
}

const KEYS = ['a', 'b', 'c', 'd'];
const commitArb = fc.record({
  mutations: fc.uniqueArray(
    fc.record({
      type: fc.constantFrom('put' as const, 'delete' as const),
      key: fc.constantFrom(...KEYS),
      value: fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
    }),
    { minLength: 1, maxLength: 3, selector: (m) => m.key },
  ),
  conditions: fc.array(
    fc.record({ type: fc.constant('key' as const), key: fc.constantFrom(...KEYS), modRevision: fc.nat(8) }),
    { maxLength: 2 },
  ),
});

const settle = (p: Promise<CommitResult>): Promise<Outcome> =>
  p.then(
    (r) => ({ ok: true as const, revision: r.revision, applied: [...r.applied] }),
    () => ({ ok: false as const }),
  );

describe.each(['memory', 'leveldb'])('group commit on %s', (kind) => {
  it('concurrent commits get exactly the outcomes and revisions of applying them one by one in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commitArb, { minLength: 1, maxLength: 40 }), async (commits) => {
        const made = await make(kind);
        try {
          const { backend } = made;
          const seen: Change[][] = [];
          backend.subscribe((changes) => seen.push([...changes]));
          const outcomes = await Promise.all(
            commits.map((c) =>
              settle(
                backend.commit(
                  c.mutations.map((m) => (m.type === 'put' ? m : { type: 'delete', key: m.key })),
                  c.conditions,
                ),
              ),
            ),
          );
          const expected = sequential(commits, 0);
          expect(outcomes).toEqual(expected);
          // Every commit that changed something was seen once, whole, in revision order.
          const revisions = expected.flatMap((o, i) =>
            o.ok && o.applied.some((a) => a) && commits[i] !== undefined ? [o.revision] : [],
          );
          expect(seen.map((changes) => changes[0]?.revision)).toEqual(revisions);
          for (const changes of seen) expect(new Set(changes.map((c) => c.revision)).size).toBe(1);
          expect(await backend.currentRevision()).toBe(revisions[revisions.length - 1] ?? 0);
          const history = await backend.changesSince(0, 1000).catch(() => []);
          expect(history).toEqual(seen.flat());
        } finally {
          await made.cleanup();
        }
      }),
      { numRuns: kind === 'memory' ? 150 : 40 },
    );
  });

  it('sixteen concurrent puts guarded by the same revision: exactly one wins, in one group or across groups', async () => {
    const made = await make(kind);
    try {
      const { backend } = made;
      const { revision } = await backend.commit([{ type: 'put', key: 'x', value: '0' }]);
      // A commit in flight makes the sixteen queue into one group behind it.
      const blocker = backend.commit([{ type: 'put', key: 'other', value: '1' }]);
      const racers = Array.from({ length: 16 }, (_, i) =>
        settle(
          backend.commit(
            [{ type: 'put', key: 'x', value: `${i + 1}` }],
            [{ type: 'key', key: 'x', modRevision: revision }],
          ),
        ),
      );
      await blocker;
      const outcomes = await Promise.all(racers);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes[0]).toEqual({ ok: true, revision: revision + 2, applied: [true] });
      expect((await backend.get('x'))?.value).toBe('1');
    } finally {
      await made.cleanup();
    }
  });

  it('a failed batch write fails every commit it carried and leaves nothing written; the next commit succeeds', async () => {
    const made = await make(kind);
    try {
      const { backend } = made;
      await backend.commit([{ type: 'put', key: 'keep', value: '"before"' }]);
      const seen: number[] = [];
      backend.subscribe((changes) => seen.push(changes[0]?.revision ?? -1));
      // The first commit's write starts at the end of this turn; the five submitted after it form the
      // next group, and that group's write fails.
      const first = backend.commit([{ type: 'put', key: 'first', value: '1' }]);
      await new Promise((resolve) => setImmediate(resolve));
      made.failNextWrite();
      const group = Array.from({ length: 5 }, (_, i) =>
        settle(
          backend.commit([
            { type: 'put', key: `g${i}`, value: `${i}` },
            { type: 'put', key: 'keep', value: '"after"' },
          ]),
        ),
      );
      const { revision: firstRevision } = await first;
      const outcomes = await Promise.all(group);
      expect(outcomes).toEqual(Array.from({ length: 5 }, () => ({ ok: false })));
      const revision = await backend.currentRevision();
      expect((await backend.get('keep'))?.value).toBe('"before"');
      for (let i = 0; i < 5; i++) expect(await backend.get(`g${i}`)).toBeUndefined();
      // Subscribers saw the first commit and nothing of the failed group.
      expect(revision).toBe(firstRevision);
      expect(seen).toEqual([firstRevision]);
      expect((await backend.changesSince(0, 100)).every((c) => !c.key.startsWith('g'))).toBe(true);
      const after = await backend.commit([{ type: 'put', key: 'g0', value: '"now"' }]);
      expect(after.revision).toBe(revision + 1);
      expect((await backend.get('g0'))?.value).toBe('"now"');
    } finally {
      await made.cleanup();
    }
  });
});
