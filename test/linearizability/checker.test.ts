/**
 * The linearizability checker on hand-made histories: it accepts valid
 * concurrent histories (including reads that may see either side of an
 * overlapping write, and writes whose outcome is unknown), and it catches
 * planted anomalies: a stale read, a lost write, a CAS that succeeds against
 * a value that was already overwritten, a read of a value never written.
 */
import { checkHistory } from './checker';
import { type KvInput, type KvOperation, type KvOutput, kvModel } from './kv-model';

const op = (input: KvInput, output: KvOutput, call: number, ret: number): KvOperation => ({ input, output, call, ret });
const put = (key: string, value: string, call: number, ret: number, output: KvOutput = 'ok') =>
  op({ op: 'put', key, value }, output, call, ret);
const get = (key: string, output: string | null, call: number, ret: number) =>
  op({ op: 'get', key }, output, call, ret);
const cas = (key: string, expect: string | null, value: string, output: KvOutput, call: number, ret: number) =>
  op({ op: 'cas', key, expect, value }, output, call, ret);
const check = (history: KvOperation[]) => checkHistory(kvModel, history).ok;

describe('the linearizability checker accepts', () => {
  it('a sequential history', () => {
    expect(
      check([
        put('k', 'a', 0, 1),
        get('k', 'a', 2, 3),
        cas('k', 'a', 'b', true, 4, 5),
        get('k', 'b', 6, 7),
        cas('k', 'a', 'c', false, 8, 9),
      ]),
    ).toBe(true);
  });

  it('a read overlapping a write that sees either the old or the new value', () => {
    expect(check([put('k', 'a', 0, 1), put('k', 'b', 2, 10), get('k', 'a', 3, 4), get('k', 'b', 5, 6)])).toBe(true);
    expect(check([put('k', 'a', 0, 1), put('k', 'b', 2, 10), get('k', 'b', 3, 4)])).toBe(true);
  });

  it('concurrent CASes where exactly one wins', () => {
    expect(
      check([
        put('k', 'a', 0, 1),
        cas('k', 'a', 'x', false, 2, 8),
        cas('k', 'a', 'y', true, 3, 7),
        get('k', 'y', 9, 10),
      ]),
    ).toBe(true);
  });

  it('a write with an unknown outcome that took effect, or did not', () => {
    expect(check([put('k', 'a', 0, 1), put('k', 'b', 2, Infinity, 'unknown'), get('k', 'b', 5, 6)])).toBe(true);
    expect(check([put('k', 'a', 0, 1), put('k', 'b', 2, Infinity, 'unknown'), get('k', 'a', 5, 6)])).toBe(true);
  });

  it('independent keys checked apart, and a long concurrent history quickly', () => {
    const history: KvOperation[] = [];
    for (let i = 0; i < 300; i++) {
      history.push(put(`k${i % 3}`, `v${i}`, i * 10, i * 10 + 15));
      history.push(get(`k${i % 3}`, `v${i}`, i * 10 + 16, i * 10 + 17));
    }
    const started = Date.now();
    expect(check(history)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('the linearizability checker catches', () => {
  it('a stale read: a value read after a later write had returned', () => {
    expect(check([put('k', 'a', 0, 1), put('k', 'b', 2, 3), get('k', 'a', 4, 5)])).toBe(false);
  });

  it('a lost write: an acknowledged write that a later read does not see', () => {
    expect(check([put('k', 'a', 0, 1), get('k', null, 2, 3)])).toBe(false);
    expect(
      check([put('k', 'a', 0, 1), put('j', 'x', 0, 1), put('k', 'b', 2, 3), get('j', 'x', 4, 5), get('k', 'a', 4, 5)]),
    ).toBe(false);
  });

  it('a doubled commit: two CASes from the same value that both succeed', () => {
    expect(check([put('k', 'a', 0, 1), cas('k', 'a', 'x', true, 2, 3), cas('k', 'a', 'y', true, 4, 5)])).toBe(false);
    expect(check([put('k', 'a', 0, 1), cas('k', 'a', 'x', true, 2, 6), cas('k', 'a', 'y', true, 3, 5)])).toBe(false);
  });

  it('a CAS reported failed although the value was the expected one', () => {
    expect(check([put('k', 'a', 0, 1), cas('k', 'a', 'x', false, 2, 3), get('k', 'a', 4, 5)])).toBe(false);
  });

  it('a read of a value nobody wrote, and a read that goes back in time', () => {
    expect(check([put('k', 'a', 0, 1), get('k', 'z', 2, 3)])).toBe(false);
    expect(check([put('k', 'a', 0, 1), put('k', 'b', 2, 10), get('k', 'b', 3, 4), get('k', 'a', 5, 6)])).toBe(false);
  });
});
