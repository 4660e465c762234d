/**
 * LevelDbBackend's on-disk layout, in one place: one LevelDB holds
 *   'd' + key                → "<createRevision>,<modRevision>," + value JSON text (verbatim)
 *   'm:revision'             → the revision of the latest commit
 *   'h' + 16-digit revision  → that commit's changes (encodeChanges, below)
 * Must never parse or validate values.
 */
import type { Change, KeyValue } from './backend';
import { ABSENT, type CachedRecord } from './read-cache';

export const DATA = 'd';
/** Above every data key. */
export const DATA_END = 'e';
export const META_REVISION = 'm:revision';

/** From which revision a record read at `revision` was already current (see read-cache.ts). */
export function validFrom(record: CachedRecord, revision: number): number {
  if (record === ABSENT) return revision;
  const a = record.indexOf(',');
  return Number(record.slice(a + 1, record.indexOf(',', a + 1)));
}

export function historyKey(revision: number): string {
  return 'h' + String(revision).padStart(16, '0');
}

/**
 * The smallest text greater, in UTF-8 byte order, than every key starting
 * with `text`, so that a scan can ask for string keys (a Buffer per key
 * costs more than the rest of the read): `text` with its last code point
 * raised by one. UTF-8 keeps code point order. The surrogate range is
 * stepped over, a lone surrogate counts as the U+FFFD UTF-8 writes for it,
 * and a last U+10FFFF is dropped for its predecessor's successor.
 * Undefined: no text is greater than every key starting with `text`.
 */
export function prefixEndText(text: string): string | undefined {
  let end = text;
  while (end.length > 0) {
    const pair = end.length >= 2 && isLow(end.charCodeAt(end.length - 1)) && isHigh(end.charCodeAt(end.length - 2));
    let point = end.codePointAt(end.length - (pair ? 2 : 1)) as number;
    end = end.slice(0, end.length - (pair ? 2 : 1));
    if (isHigh(point) || isLow(point)) point = 0xfffd;
    if (point < 0x10ffff) return end + String.fromCodePoint(point === 0xd7ff ? 0xe000 : point + 1);
  }
  return undefined;
}

const isHigh = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

export function decodeRecord(key: string, raw: string, keysOnly: boolean): KeyValue {
  const a = raw.indexOf(',');
  const b = raw.indexOf(',', a + 1);
  return {
    key,
    value: keysOnly ? '' : raw.slice(b + 1),
    createRevision: Number(raw.slice(0, a)),
    modRevision: Number(raw.slice(a + 1, b)),
  };
}

/**
 * History entry: per change, one type byte ('p' or 'd'), then key and value as
 * uint32 byte length + UTF-8 bytes. Lengths are in bytes so that decoding never
 * depends on how a string re-encodes.
 */
export function encodeChanges(changes: readonly Change[]): Buffer {
  let size = 0;
  for (const change of changes) size += 9 + Buffer.byteLength(change.key) + Buffer.byteLength(change.value);
  // One buffer written in place: this runs for every commit.
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const change of changes) {
    out[at] = change.type === 'put' ? 0x70 : 0x64;
    const keyLength = out.write(change.key, at + 5);
    out.writeUInt32BE(keyLength, at + 1);
    at += 5 + keyLength;
    const valueLength = out.write(change.value, at + 4);
    out.writeUInt32BE(valueLength, at);
    at += 4 + valueLength;
  }
  return out;
}

export function decodeChanges(buf: Buffer, revision: number): Change[] {
  const out: Change[] = [];
  let at = 0;
  while (at < buf.length) {
    const type = buf[at] === 0x70 ? 'put' : 'delete';
    const keyLength = buf.readUInt32BE(at + 1);
    const key = buf.toString('utf8', at + 5, at + 5 + keyLength);
    at += 5 + keyLength;
    const valueLength = buf.readUInt32BE(at);
    const value = buf.toString('utf8', at + 4, at + 4 + valueLength);
    at += 4 + valueLength;
    out.push({ type, key, value, revision });
  }
  return out;
}
