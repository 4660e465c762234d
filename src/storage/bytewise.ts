/**
 * Key order for the whole store: UTF-8 byte order, which is what LevelDB's
 * default comparator and etcd give. JS `<` compares UTF-16 code units, which
 * puts astral characters (surrogate pairs, 0xD800–0xDFFF) *before*
 * U+E000–U+FFFF, unlike UTF-8. Everything here must stay allocation-free: it
 * runs inside sorts and binary searches. It must never encode to Buffers.
 */

/**
 * Maps a UTF-16 code unit to a rank whose order matches UTF-8 byte order of
 * the code points it belongs to: surrogates (astral characters) move above
 * U+E000–U+FFFF, which move down to fill the gap. Within a surrogate pair the
 * high unit decides first, then the low one, which is code point order.
 */
function rank(unit: number): number {
  if (unit < 0xd800) return unit;
  if (unit < 0xe000) return unit + 0x2000;
  return unit - 0x800;
}

/** Negative if a < b, 0 if equal, positive if a > b, in UTF-8 byte order. */
export function compareBytewise(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Fast path: below the surrogates, code unit order is UTF-8 order.
      if (x < 0xd800 && y < 0xd800) return x - y;
      return rank(x) - rank(y);
    }
  }
  return a.length - b.length;
}

/**
 * Index of the first element of the sorted array `keys` that is greater than
 * `key` (strict) or, with `inclusive`, greater than or equal to it.
 */
export function lowerBound(keys: readonly string[], key: string, inclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareBytewise(keys[mid] as string, key);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
