/**
 * GroupCommit's `gather` mode (what the backend core uses): an idle writer
 * waits for the end of the event loop's turn, so commits submitted in the
 * same turn share one group, in arrival order; later ones still queue
 * behind a write in flight.
 */
import { GroupCommit, type Queued } from '../../src/storage/group-commit';

describe('GroupCommit with gather', () => {
  it('commits of one turn form one group; those arriving during its write form the next', async () => {
    const groups: number[][] = [];
    let release: () => void = () => undefined;
    const gc = new GroupCommit<number, number>(
      async (group: readonly Queued<number, number>[]) => {
        groups.push(group.map((q) => q.input));
        if (groups.length === 1) await new Promise<void>((resolve) => (release = resolve));
        for (const q of group) q.resolve(q.input * 10);
      },
      64,
      true,
    );
    const firstTurn = [1, 2, 3].map((n) => gc.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(groups).toEqual([[1, 2, 3]]);
    const later = [4, 5].map((n) => gc.submit(n));
    release();
    expect(await Promise.all([...firstTurn, ...later])).toEqual([10, 20, 30, 40, 50]);
    expect(groups).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    await gc.idle();
  });

  it('idle() waits for a group that has not started yet', async () => {
    const written: number[] = [];
    const gc = new GroupCommit<number, void>(
      async (group) => {
        for (const q of group) {
          written.push(q.input);
          q.resolve();
        }
      },
      64,
      true,
    );
    void gc.submit(7);
    await gc.idle();
    expect(written).toEqual([7]);
  });
});
