import { Derived, frozenLike } from '../src/derived';

describe('Derived', () => {
  it('derives once per frozen source and parameter, and afresh for a source that is not frozen', () => {
    let calls = 0;
    const sum = new Derived((xs: readonly number[], scale: number) => {
      calls++;
      return xs.reduce((a, b) => a + b, 0) * scale;
    });
    const frozen = Object.freeze([1, 2, 3]);
    expect(sum.of(frozen, 1)).toBe(6);
    expect(sum.of(frozen, 1)).toBe(6);
    expect(calls).toBe(1);
    // Another parameter derives again (and is the one remembered).
    expect(sum.of(frozen, 2)).toBe(12);
    expect(calls).toBe(2);
    const open = [1, 2, 3];
    expect(sum.of(open, 1)).toBe(6);
    open.push(4);
    expect(sum.of(open, 1)).toBe(10);
    expect(calls).toBe(4);
  });

  it('frozenLike freezes the items and their array only when the source is frozen', () => {
    const items = [{ a: 1 }];
    expect(Object.isFrozen(frozenLike([], items))).toBe(false);
    const frozen = frozenLike(Object.freeze([]), [{ a: 1 }]);
    expect(Object.isFrozen(frozen)).toBe(true);
    expect(Object.isFrozen(frozen[0])).toBe(true);
  });
});
