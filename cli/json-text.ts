/**
 * JSON text handled as text, so numbers are never rounded through a double:
 * re-indenting (pretty or one line) copies every string and number token
 * verbatim, and the members of a top-level object can be taken out as raw
 * text spans (import reads values this way). Input must already be valid
 * JSON (check with JSON.parse first); these functions never evaluate it.
 */

const WS = new Set([' ', '\t', '\n', '\r']);

/** Index just past the string starting at text[i] === '"'. */
function endOfString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  throw new SyntaxError('unterminated string');
}

/** Index just past the JSON value starting at (or after whitespace from) i. */
export function endOfValue(text: string, i: number): number {
  while (WS.has(text[i] as string)) i++;
  const c = text[i];
  if (c === '"') return endOfString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') j = endOfString(text, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new SyntaxError('unterminated object or array');
  }
  let j = i;
  while (j < text.length && !WS.has(text[j] as string) && !',}]'.includes(text[j] as string)) j++;
  if (j === i) throw new SyntaxError(`unexpected ${JSON.stringify(c ?? 'end')} at ${i}`);
  return j;
}

/** The members of a top-level JSON object as raw text, e.g. {"a": 1} -> {a: "1"}. */
export function objectMembers(text: string): Map<string, string> {
  const members = new Map<string, string>();
  let i = 0;
  const skip = () => {
    while (WS.has(text[i] as string)) i++;
  };
  skip();
  if (text[i] !== '{') throw new SyntaxError('not a JSON object');
  i++;
  skip();
  if (text[i] === '}') return members;
  for (;;) {
    skip();
    const keyEnd = endOfString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    skip();
    if (text[i] !== ':') throw new SyntaxError(`expected ':' at ${i}`);
    i++;
    skip();
    const end = endOfValue(text, i);
    members.set(key, text.slice(i, end));
    i = end;
    skip();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '}') return members;
    throw new SyntaxError(`expected ',' or '}' at ${i}`);
  }
}

/** Re-indents valid JSON text: indent 0 gives one line with no spaces. Strings and numbers are copied verbatim. */
export function formatJson(text: string, indent: number): string {
  let out = '';
  let depth = 0;
  const newline = () => (indent > 0 ? '\n' + ' '.repeat(indent * depth) : '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (WS.has(c)) continue;
    if (c === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (c === '{' || c === '[') {
      // Keep empty containers on one line.
      let j = i + 1;
      while (WS.has(text[j] as string)) j++;
      if (text[j] === (c === '{' ? '}' : ']')) {
        out += c === '{' ? '{}' : '[]';
        i = j;
        continue;
      }
      depth++;
      out += c + newline();
    } else if (c === '}' || c === ']') {
      depth--;
      out += newline() + c;
    } else if (c === ',') {
      out += ',' + newline();
    } else if (c === ':') {
      out += indent > 0 ? ': ' : ':';
    } else {
      out += c;
    }
  }
  return out;
}

/** One line of JSON: the text itself when it has no line breaks, else re-formatted (only whitespace changes). */
export function oneLine(text: string): string {
  return /[\n\r]/.test(text) ? formatJson(text, 0) : text;
}
