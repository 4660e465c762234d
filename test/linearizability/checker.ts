/**
 * A linearizability checker: Wing & Gong's search, with Lowe's memoization of
 * (set of linearized operations, model state) as Porcupine implements it.
 * A history is a list of operations, each with the time it was called and
 * the time it returned; an operation whose outcome is unknown (the client saw
 * an error that does not say whether it took effect) returns at +Infinity, so
 * it may take effect anywhere after its call, or never (which is the same as
 * taking effect after everything else). A model may partition a history into
 * independent parts (per key, for a key-value store); each part is checked on
 * its own. Test code only: it must never import the server.
 */

export interface Operation<I, O> {
  readonly input: I;
  readonly output: O;
  /** When the client called (any monotonic clock, e.g. performance.now()). */
  readonly call: number;
  /** When the answer arrived; +Infinity when the outcome is unknown. */
  readonly ret: number;
}

export interface Model<S, I, O> {
  /** Splits a history into independently checkable parts (e.g. by key). */
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  init(): S;
  /** Whether `input` answered `output` is legal in `state`, and the state after it. */
  step(state: S, input: I, output: O): { ok: boolean; state: S };
  /** A string that is equal for equal states (memoization key). */
  hash(state: S): string;
}

export interface CheckResult {
  readonly ok: boolean;
  /** Index of the first part (partition) that is not linearizable, when not ok. */
  readonly failedPart?: number;
}

export function checkHistory<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): CheckResult {
  const parts = model.partition ? model.partition(history) : [[...history]];
  for (let i = 0; i < parts.length; i++) {
    if (!checkPart(model, parts[i] as Operation<I, O>[])) return { ok: false, failedPart: i };
  }
  return { ok: true };
}

interface Entry<I, O> {
  /** Operation index. */
  readonly id: number;
  readonly time: number;
  readonly isCall: boolean;
  readonly op: Operation<I, O>;
  /** For a call entry: its return entry. */
  match: Entry<I, O> | undefined;
  prev: Entry<I, O> | undefined;
  next: Entry<I, O> | undefined;
}

function checkPart<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  // Call and return entries by time; at equal times calls come first (such operations overlap).
  const raw: Entry<I, O>[] = [];
  ops.forEach((op, id) => {
    const ret: Entry<I, O> = {
      id,
      time: op.ret,
      isCall: false,
      op,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    raw.push({ id, time: op.call, isCall: true, op, match: ret, prev: undefined, next: undefined }, ret);
  });
  raw.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall));
  const head: Entry<I, O> = {
    id: -1,
    time: -Infinity,
    isCall: false,
    op: undefined as never,
    match: undefined,
    prev: undefined,
    next: undefined,
  };
  let last = head;
  for (const e of raw) {
    last.next = e;
    e.prev = last;
    last = e;
  }

  const words = Math.ceil(ops.length / 32) + 1;
  const linearized = new Uint32Array(words);
  const cache = new Map<string, { bits: Uint32Array; state: S }[]>();
  const calls: { entry: Entry<I, O>; state: S }[] = [];
  let state = model.init();
  let entry = head.next;

  const lift = (e: Entry<I, O>): void => {
    (e.prev as Entry<I, O>).next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match as Entry<I, O>;
    (m.prev as Entry<I, O>).next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (e: Entry<I, O>): void => {
    const m = e.match as Entry<I, O>;
    (m.prev as Entry<I, O>).next = m;
    if (m.next) m.next.prev = m;
    (e.prev as Entry<I, O>).next = e;
    if (e.next) e.next.prev = e;
  };
  const seen = (bits: Uint32Array, s: S): boolean => {
    const key = `${hashBits(bits)}|${model.hash(s)}`;
    const bucket = cache.get(key) ?? [];
    if (bucket.some((c) => model.hash(c.state) === model.hash(s) && equalBits(c.bits, bits))) return true;
    bucket.push({ bits: bits.slice(), state: s });
    cache.set(key, bucket);
    return false;
  };

  while (head.next !== undefined) {
    if (entry === undefined) return false;
    if (entry.isCall) {
      const { ok, state: after } = model.step(state, entry.op.input, entry.op.output);
      if (ok) {
        const bits = linearized.slice();
        setBit(bits, entry.id);
        if (!seen(bits, after)) {
          calls.push({ entry, state });
          state = after;
          setBit(linearized, entry.id);
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
      continue;
    }
    // A return entry reached: the operation it ends was not linearized before it. Backtrack.
    const top = calls.pop();
    if (top === undefined) return false;
    state = top.state;
    clearBit(linearized, top.entry.id);
    unlift(top.entry);
    entry = top.entry.next;
  }
  return true;
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = ((bits[i >>> 5] as number) | (1 << (i & 31))) >>> 0;
}

function clearBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = ((bits[i >>> 5] as number) & ~(1 << (i & 31))) >>> 0;
}

function equalBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hashBits(bits: Uint32Array): string {
  let h = 0;
  for (const w of bits) h = (Math.imul(h, 31) + w) | 0;
  return String(h);
}
