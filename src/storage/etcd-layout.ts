/**
 * Where the etcd backend keeps things inside its namespace <ns>, and how etcd
 * records translate back into the Backend's vocabulary:
 *   <ns>d/<key>  the value of <key>, verbatim; etcd keeps create/mod revisions
 *   <ns>t/<key>  a tombstone, put whenever <key> is deleted (prefix guards see deletes)
 *   <ns>rev      put by every Lucien commit: its mod_revision is the latest one
 * This file only builds keys and ranges and decodes records; it must never
 * talk to etcd, and never interpret values.
 */
import type { ICompare, IEvent, IKeyValue } from 'etcd3';
import { LucienError } from '../errors';
import type { Change, KeyValue } from './backend';

/** A half-open byte range [key, range_end) in etcd's terms. */
export interface ByteRange {
  readonly key: Buffer;
  readonly range_end: Buffer;
}

export class EtcdLayout {
  readonly meta: Buffer;
  /** Everything the backend owns: what the watch covers. */
  readonly all: ByteRange;
  private readonly dataTag: string;
  private readonly tombstoneTag: string;

  constructor(readonly namespace: string) {
    if (namespace === '') throw new LucienError('INVALID_ARGUMENT', 'the etcd namespace must not be empty');
    this.dataTag = `${namespace}d/`;
    this.tombstoneTag = `${namespace}t/`;
    this.meta = Buffer.from(`${namespace}rev`);
    this.all = rangeOf(Buffer.from(namespace));
  }

  data(key: string): Buffer {
    return Buffer.from(this.dataTag + key);
  }

  tombstone(key: string): Buffer {
    return Buffer.from(this.tombstoneTag + key);
  }

  dataRange(prefix: string): ByteRange {
    return rangeOf(this.data(prefix));
  }

  tombstoneRange(prefix: string): ByteRange {
    return rangeOf(this.tombstone(prefix));
  }

  /** The Backend key of a data or tombstone record; undefined for anything else. */
  decode(raw: Buffer): { kind: 'data' | 'tombstone'; key: string } | undefined {
    const text = raw.toString('utf8');
    if (text.startsWith(this.dataTag)) return { kind: 'data', key: text.slice(this.dataTag.length) };
    if (text.startsWith(this.tombstoneTag)) return { kind: 'tombstone', key: text.slice(this.tombstoneTag.length) };
    return undefined;
  }

  keyValue(kv: IKeyValue, keysOnly: boolean): KeyValue {
    return {
      key: this.decode(kv.key)?.key ?? '',
      value: keysOnly ? '' : kv.value.toString('utf8'),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  /**
   * A watch event as a Backend change: a data put is a put, a tombstone put is
   * the delete (it carries the commit's revision even when the key was put
   * and deleted inside one commit). Data deletes, tombstone trims and the
   * revision marker are bookkeeping and yield nothing.
   */
  change(event: IEvent): Change | undefined {
    if (event.type !== 'Put') return undefined;
    const decoded = this.decode(event.kv.key);
    if (decoded === undefined) return undefined;
    const revision = Number(event.kv.mod_revision);
    return decoded.kind === 'data'
      ? { type: 'put', key: decoded.key, value: event.kv.value.toString('utf8'), revision }
      : { type: 'delete', key: decoded.key, value: '', revision };
  }
}

/** Compare: the mod_revision of `key` (0 when absent) equals `revision`. */
export function modEquals(key: Buffer, revision: number): ICompare {
  return { key, target: 'Mod', result: 'Equal', mod_revision: revision };
}

/** Compare: every key in `range` (none counts as 0) was last modified before `revision`. */
export function modBelow(range: ByteRange | Buffer, revision: number): ICompare {
  const bounds = Buffer.isBuffer(range) ? { key: range } : range;
  return { ...bounds, target: 'Mod', result: 'Less', mod_revision: revision };
}

/** All keys starting with `bytes` (UTF-8 never contains 0xFF, so the last byte can be bumped). */
export function rangeOf(bytes: Buffer): ByteRange {
  const end = Buffer.from(bytes);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return { key: bytes, range_end: end };
}
