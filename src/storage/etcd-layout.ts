/**
 * Where the etcd backend keeps things inside its namespace <ns>, and how etcd
 * records translate back into the Backend's vocabulary:
 *   <ns>d/<key>  the value of <key>, verbatim; etcd keeps create/mod revisions
 *   <ns>t/<key>  a tombstone, put whenever <key> is deleted (prefix guards see deletes)
 *   <ns>c/<key>  a rebirth mark: <key> was deleted and put again inside one commit
 *                (etcd forbids both on one key in a Txn, so the put alone is
 *                written and keeps etcd's old create_revision); while the mark
 *                exists, its mod_revision is <key>'s create_revision
 *   <ns>rev      put by every Lucien commit: its mod_revision is the latest one
 *   <ns>s/<node>/<n>  a commit slot of one backend instance: every commit puts its
 *                attempt's id there, so a commit whose answer was lost can be
 *                settled (etcd.ts); invisible to readers and to the history
 * This file only builds keys and ranges and decodes records; it must never
 * talk to etcd, and never interpret values.
 */
import type { ICompare, IEvent } from 'etcd3';
import { LucienError } from '../errors';
import type { Change, KeyValue } from './backend';

/** What keyValue reads of a record: etcd3's IKeyValue and etcd-wire's EtcdKeyValue both fit. */
interface RecordRead {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly create_revision: string | number;
  readonly mod_revision: string | number;
}

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
  private readonly rebirthTag: string;

  constructor(readonly namespace: string) {
    if (namespace === '') throw new LucienError('INVALID_ARGUMENT', 'the etcd namespace must not be empty');
    this.dataTag = `${namespace}d/`;
    this.tombstoneTag = `${namespace}t/`;
    this.rebirthTag = `${namespace}c/`;
    this.meta = Buffer.from(`${namespace}rev`);
    this.all = rangeOf(Buffer.from(namespace));
  }

  data(key: string): Buffer {
    return Buffer.from(this.dataTag + key);
  }

  tombstone(key: string): Buffer {
    return Buffer.from(this.tombstoneTag + key);
  }

  rebirth(key: string): Buffer {
    return Buffer.from(this.rebirthTag + key);
  }

  slot(node: string, index: number): Buffer {
    return Buffer.from(`${this.namespace}s/${node}/${index}`);
  }

  dataRange(prefix: string): ByteRange {
    return rangeOf(this.data(prefix));
  }

  tombstoneRange(prefix: string): ByteRange {
    return rangeOf(this.tombstone(prefix));
  }

  rebirthRange(prefix: string): ByteRange {
    return rangeOf(this.rebirth(prefix));
  }

  /** The Backend key of a data, tombstone or rebirth record; undefined for anything else. */
  decode(raw: Buffer): { kind: 'data' | 'tombstone' | 'rebirth'; key: string } | undefined {
    const text = raw.toString('utf8');
    for (const [kind, tag] of [
      ['data', this.dataTag],
      ['tombstone', this.tombstoneTag],
      ['rebirth', this.rebirthTag],
    ] as const) {
      if (text.startsWith(tag)) return { kind, key: text.slice(tag.length) };
    }
    return undefined;
  }

  /** A data record as a KeyValue; `rebirth` is its key's rebirth mark, when there is one. */
  keyValue(kv: RecordRead, keysOnly: boolean, rebirth?: RecordRead): KeyValue {
    return {
      key: this.decode(kv.key)?.key ?? '',
      value: keysOnly ? '' : kv.value.toString('utf8'),
      createRevision: Number(rebirth?.mod_revision ?? kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  /**
   * A watch event as a Backend change: a data put is a put, a tombstone put is
   * the delete (it carries the commit's revision even when the key was put
   * and deleted inside one commit); a rebirth mark is the delete that preceded
   * a put of the same key in one commit (it comes first in the Txn). Data
   * deletes, trims and the revision marker are bookkeeping and yield nothing.
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
