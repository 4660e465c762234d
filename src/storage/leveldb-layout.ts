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

/** The smallest byte string greater than every string starting with `bytes` (UTF-8 never contains 0xFF). */
export function prefixEnd(bytes: Buffer): Buffer {
  const end = Buffer.from(bytes);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return end;
}

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
  const parts: Buffer[] = [];
  for (const change of changes) {
    const key = Buffer.from(change.key);
    const value = Buffer.from(change.value);
    const head = Buffer.alloc(5);
    head[0] = change.type === 'put' ? 0x70 : 0x64;
    head.writeUInt32BE(key.length, 1);
    const mid = Buffer.alloc(4);
    mid.writeUInt32BE(value.length, 0);
    parts.push(head, key, mid, value);
  }
  return Buffer.concat(parts);
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
