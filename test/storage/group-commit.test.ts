import { GroupCommit, type Queued } from '../../src/storage/group-commit';

describe('GroupCommit', () => {
  it('commits queued while a group is written form the next group, in arrival order', async () => {
    const groups: number[][] = [];
    let release: () => void = () => undefined;
    const gc = new GroupCommit<number, number>(async (group: readonly Queued<number, number>[]) => {
      groups.push(group.map((q) => q.input));
      if (groups.length === 1) await new Promise<void>((resolve) => (release = resolve));
      for (const q of group) q.resolve(q.input * 10);
    }, 3);
    const first = gc.submit(1);
    const rest = [2, 3, 4, 5, 6].map((n) => gc.submit(n));
    release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50, 60]);
    // 1 alone (the writer was free), then the five that queued behind it, at most 3 a group.
    expect(groups).toEqual([[1], [2, 3, 4], [5, 6]]);
    await gc.idle();
  });

  it('a writer that throws fails every commit of its group it had not settled, and the next group still runs', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const gc = new GroupCommit<string, string>(async (group) => {
      calls++;
      if (calls === 1) await new Promise<void>((resolve) => (release = resolve));
      if (calls === 2) {
        group[0]?.reject(new Error('refused alone'));
        throw new Error('batch failed');
      }
      for (const q of group) q.resolve(q.input);
    }, 10);
    const x = gc.submit('x');
    const both = Promise.allSettled([gc.submit('a'), gc.submit('b')]);
    release();
    expect(await x).toBe('x');
    const [a, b] = await both;
    expect(a).toMatchObject({ status: 'rejected', reason: new Error('refused alone') });
    expect(b).toMatchObject({ status: 'rejected', reason: new Error('batch failed') });
    expect(await gc.submit('c')).toBe('c');
  });

  it('idle() waits for what is queued', async () => {
    const done: number[] = [];
    const gc = new GroupCommit<number, void>(async (group) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const q of group) {
        done.push(q.input);
        q.resolve();
      }
    }, 2);
    void gc.submit(1);
    void gc.submit(2);
    void gc.submit(3);
    await gc.idle();
    expect(done).toEqual([1, 2, 3]);
  });
});
