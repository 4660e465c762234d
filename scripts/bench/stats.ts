/**
 * Small statistics for noisy machines: quantiles of a latency sample, and
 * the median with its spread (min–max) over repetitions.
 */

/** The q-quantile (0..1) of an ascending array, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = finite.length >> 1;
  const median =
    finite.length % 2 === 1 ? (finite[mid] as number) : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2;
  return { median, min: finite[0] as number, max: finite[finite.length - 1] as number, n: finite.length };
}

/** "1234 (1100–1300)": a median with its min–max, rounded for a table. */
export function fmt(s: Spread, digits = 0): string {
  if (s.n === 0) return '–';
  const r = (v: number) => (Math.abs(v) >= 100 || digits === 0 ? Math.round(v).toString() : v.toFixed(digits));
  return s.n === 1 ? r(s.median) : `${r(s.median)} (${r(s.min)}–${r(s.max)})`;
}

export function fmtRatio(s: Spread): string {
  if (s.n === 0) return '–';
  const r = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return s.n === 1 ? `${r(s.median)}×` : `${r(s.median)}× (${r(s.min)}–${r(s.max)})`;
}
