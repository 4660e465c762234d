/**
 * How deep JSON text nests, measured without parsing it. Values and
 * arguments cross to engine hosts as JSON text, and an engine parses them
 * recursively (Pyodide's json module overflows the wasm stack somewhere past
 * a few thousand levels, which kills the host): the server refuses anything
 * nested deeper than MAX_NESTING_DEPTH before it reaches a host, and the edge
 * (src/json-depth.ts) uses the same scan for its own, lower limit. Linear in
 * the text, no recursion, and free for text too short to nest that deep.
 * Brackets inside strings do not count; `{}` is depth 1. Must never import
 * anything from src/.
 */

/** Deepest nesting of arrays and objects the server hands to an engine host. */
export const MAX_NESTING_DEPTH = 512;

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `text` (JSON) nests arrays/objects deeper than `max` levels. */
export function nestsDeeperThan(text: string, max: number): boolean {
  // Each level needs its own opening bracket: shorter text cannot nest that deep.
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
