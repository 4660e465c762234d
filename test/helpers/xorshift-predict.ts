/**
 * Predicts V8's Math.random from a few of its outputs, as an attacker would:
 * V8 draws doubles from xorshift128+ (each double is the top 52 bits of the
 * state's first word), which is linear over GF(2), so five outputs pin the
 * 128-bit state and every output before and after follows. Used by tests to
 * show that one run's numbers do not predict another run's. Test-only; never
 * imported by the server.
 */
const MASK = (1n << 64n) - 1n;
const WINDOW = 400; // outputs modelled, before and after the observed ones

/** One xorshift128+ step over concrete 64-bit words (V8's XorShift128). */
function step(s: [bigint, bigint]): [bigint, bigint] {
  let s1 = s[0];
  const s0 = s[1];
  s1 ^= (s1 << 23n) & MASK;
  s1 ^= s1 >> 17n;
  s1 ^= s0;
  s1 ^= s0 >> 26n;
  return [s0, s1];
}

/** The same step over symbolic words: each bit is a 128-bit mask of the initial state's bits. */
type Sym = bigint[]; // 64 entries, bit i of the word
function shl(w: Sym, n: number): Sym {
  return w.map((_, i) => (i - n >= 0 ? (w[i - n] as bigint) : 0n));
}
function shr(w: Sym, n: number): Sym {
  return w.map((_, i) => (i + n < 64 ? (w[i + n] as bigint) : 0n));
}
function xor(a: Sym, b: Sym): Sym {
  return a.map((x, i) => x ^ (b[i] as bigint));
}
function symStep(s: [Sym, Sym]): [Sym, Sym] {
  let s1 = s[0];
  const s0 = s[1];
  s1 = xor(s1, shl(s1, 23));
  s1 = xor(s1, shr(s1, 17));
  s1 = xor(s1, s0);
  s1 = xor(s1, shr(s0, 26));
  return [s0, s1];
}

const mantissa = (x: number): bigint => BigInt(Math.round(x * 2 ** 52));

/** Solves for the state WINDOW steps before the first observed output, or undefined. */
function solve(observed: readonly number[]): [bigint, bigint] | undefined {
  // V8 serves its cache of generated numbers last-first: observed[k] was generated k steps before observed[0].
  let sym: [Sym, Sym] = [
    Array.from({ length: 64 }, (_, i) => 1n << BigInt(i)),
    Array.from({ length: 64 }, (_, i) => 1n << BigInt(64 + i)),
  ];
  const rows: bigint[] = [];
  const first = WINDOW - observed.length + 1; // generation index of observed[last]
  for (let g = 1; g <= WINDOW; g++) {
    sym = symStep(sym);
    const k = WINDOW - g; // observed index generated at g
    if (g >= first && k >= 0 && k < observed.length) {
      const m = mantissa(observed[k] as number);
      for (let bit = 0; bit < 52; bit++) rows.push((sym[0][12 + bit] as bigint) | (((m >> BigInt(bit)) & 1n) << 128n));
    }
  }
  // Gaussian elimination over GF(2); column 128 is the right-hand side.
  const pivots: bigint[] = new Array(128).fill(0n);
  for (let row of rows) {
    for (let col = 0; col < 128; col++) {
      if (((row >> BigInt(col)) & 1n) === 0n) continue;
      const p = pivots[col] as bigint;
      if (p === 0n) {
        pivots[col] = row;
        row = 0n;
        break;
      }
      row ^= p;
    }
    if (row !== 0n && row >> 128n === 1n && (row & ((1n << 128n) - 1n)) === 0n) return undefined; // inconsistent
  }
  if (pivots.some((p) => p === 0n)) return undefined;
  const x: bigint[] = new Array(128).fill(0n);
  for (let col = 127; col >= 0; col--) {
    const p = pivots[col] as bigint;
    let v = (p >> 128n) & 1n;
    for (let j = col + 1; j < 128; j++) if ((p >> BigInt(j)) & 1n) v ^= x[j] as bigint;
    x[col] = v;
  }
  let s0 = 0n;
  let s1 = 0n;
  for (let i = 0; i < 64; i++) {
    s0 |= (x[i] as bigint) << BigInt(i);
    s1 |= (x[64 + i] as bigint) << BigInt(i);
  }
  return [s0, s1];
}

/**
 * Every output V8 would produce within WINDOW steps of the observed ones,
 * before or after, given five observed consecutive outputs; empty when they
 * did not come from one xorshift128+ stream.
 */
export function predictNeighbours(observed: readonly number[]): Set<number> {
  const state = solve(observed);
  const out = new Set<number>();
  if (state === undefined) return out;
  let s = state;
  for (let g = 1; g <= 2 * WINDOW; g++) {
    s = step(s);
    out.add(Number(s[0] >> 12n) / 2 ** 52);
  }
  for (const x of observed) if (!out.has(x)) return new Set();
  return out;
}
