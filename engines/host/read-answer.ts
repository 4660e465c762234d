/**
 * The answer to a 'read' bridge call (the engine host's cache misses), in
 * one place for both sides: the server formats it, the host parses it.
 * Values travel as their JSON text, verbatim, never parsed and re-encoded
 * (that would round numbers), so the answer frames them by length:
 *   a JSON array [revision, length, ...] with one pair per key asked (the
 *   key's mod revision, 0 when absent, -1 when the answer is the run's own
 *   write; the value's length in UTF-16 units), then '\n', then each value's
 *   JSON text ('null' when absent) back to back.
 */

/** Parses a 'read' answer as the host receives it ('v' + the text above); undefined if malformed. */
export function parseRead(reply: string, count: number): [number, string][] | undefined {
  const newline = reply.indexOf('\n');
  if (newline < 0) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(reply.slice(1, newline));
  } catch {
    return undefined;
  }
  if (!Array.isArray(header) || header.length !== 2 * count) return undefined;
  const out: [number, string][] = [];
  let at = newline + 1;
  for (let i = 0; i < count; i++) {
    const revision = header[2 * i] as unknown;
    const length = header[2 * i + 1] as unknown;
    if (
      !Number.isSafeInteger(revision) ||
      !Number.isSafeInteger(length) ||
      (length as number) < 0 ||
      at + (length as number) > reply.length
    )
      return undefined;
    const n = length as number;
    out.push([revision as number, reply.slice(at, at + n)]);
    at += n;
  }
  return at === reply.length ? out : undefined;
}

/** Formats a 'read' answer (without the frame's 'v'). */
export function formatRead(found: readonly (readonly [number, string])[]): string {
  const header: number[] = [];
  for (const [revision, value] of found) header.push(revision, value.length);
  return `${JSON.stringify(header)}\n${found.map(([, value]) => value).join('')}`;
}
