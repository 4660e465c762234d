/**
 * How deeply JSON text nests, found by one linear scan of the text (no parse,
 * no recursion, so no input can overflow a stack here). Used at the edge and
 * at the script bridge to refuse values, arguments and results nested deeper
 * than LUCIEN_MAX_JSON_DEPTH before anything parses or stores them. It never
 * validates JSON otherwise: JSON.parse does that afterwards.
 */

export const DEFAULT_MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * True when some object or array in `text` is nested deeper than `max`
 * levels (`{}` is depth 1, `{"a":[]}` depth 2). Brackets inside strings do not
 * count. Stops at the first level past `max`.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
