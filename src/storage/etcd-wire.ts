/**
 * etcd's KV messages (etcdserverpb, v3 API) as protobuf bytes, by hand: the
 * requests the etcd backend sends on its hot path (Range, Txn) and the
 * answers it reads. The shapes are those of the etcd3 package's types (the
 * same field names), so a plan built for one client runs on the other.
 * Field numbers are etcd's rpc.proto and kv.proto. Pure functions: this file
 * must never do I/O, and never drop a field the backend reads.
 */
import type { ICompare, IRangeRequest, IRequestOp, ITxnRequest } from 'etcd3';

/** A key-value as etcd answers it (revisions as numbers: every caller wraps them in Number()). */
export interface EtcdKeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly create_revision: number;
  readonly mod_revision: number;
}

export interface RangeResult {
  readonly header: { readonly revision: number };
  readonly kvs: EtcdKeyValue[];
  readonly more: boolean;
}

/** One answer of a Txn's branch: only ranges are read back. */
export interface ResponseOp {
  readonly response_range?: RangeResult;
}

export interface TxnResult {
  readonly header: { readonly revision: number };
  readonly succeeded: boolean;
  readonly responses: ResponseOp[];
}

const COMPARE_RESULT: Readonly<Record<string, number>> = { Equal: 0, Greater: 1, Less: 2, NotEqual: 3 };
const COMPARE_TARGET: Readonly<Record<string, number>> = { Version: 0, Create: 1, Mod: 2, Value: 3, Lease: 4 };

/** Appends protobuf fields to a list of chunks; zero scalars are left out (proto3) unless forced. */
class Writer {
  readonly parts: Buffer[] = [];
  size = 0;

  varint(field: number, value: number | string | boolean | undefined, force = false): void {
    const n = Number(value ?? 0);
    if (n === 0 && !force) return;
    this.raw(tagged(field, 0, n));
  }

  bytes(field: number, value: Buffer | undefined): void {
    if (value === undefined) return;
    this.raw(tagged(field, 2, value.length));
    this.raw(value);
  }

  message(field: number, body: Writer): void {
    this.raw(tagged(field, 2, body.size));
    for (const part of body.parts) this.raw(part);
  }

  done(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }

  private raw(part: Buffer): void {
    this.parts.push(part);
    this.size += part.length;
  }
}

/** A field's tag followed by a varint (the value, or a length). */
function tagged(field: number, wire: number, n: number): Buffer {
  const out: number[] = [];
  for (let v = field * 8 + wire; ; v = Math.floor(v / 128)) {
    if (v < 0x80) {
      out.push(v);
      break;
    }
    out.push((v % 128) | 0x80);
  }
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 0x80) {
      out.push(v);
      break;
    }
    out.push((v % 128) | 0x80);
  }
  return Buffer.from(out);
}

function rangeBody(r: IRangeRequest): Writer {
  const w = new Writer();
  w.bytes(1, r.key);
  w.bytes(2, r.range_end);
  w.varint(3, r.limit);
  w.varint(4, r.revision);
  w.varint(7, r.serializable);
  w.varint(8, r.keys_only);
  w.varint(9, r.count_only);
  w.varint(10, r.min_mod_revision);
  w.varint(11, r.max_mod_revision);
  return w;
}

function compareBody(c: ICompare): Writer {
  const target = COMPARE_TARGET[String(c.target ?? 'Version')];
  if (target !== 2) throw new Error(`etcd-wire: only mod_revision compares are encoded, not ${String(c.target)}`);
  const w = new Writer();
  w.varint(1, COMPARE_RESULT[String(c.result ?? 'Equal')]);
  w.varint(2, target);
  w.bytes(3, c.key);
  // A oneof member: sent even when 0, so that etcd sees which target it compares.
  w.varint(6, c.mod_revision, true);
  w.bytes(64, c.range_end);
  return w;
}

function opBody(op: IRequestOp): Writer {
  const w = new Writer();
  if (op.request_range !== undefined) w.message(1, rangeBody(op.request_range));
  else if (op.request_put !== undefined) {
    const put = new Writer();
    put.bytes(1, op.request_put.key);
    put.bytes(2, op.request_put.value);
    w.message(2, put);
  } else if (op.request_delete_range !== undefined) {
    const del = new Writer();
    del.bytes(1, op.request_delete_range.key);
    del.bytes(2, op.request_delete_range.range_end);
    w.message(3, del);
  } else throw new Error('etcd-wire: a Txn op must be a range, a put or a delete');
  return w;
}

export function encodeRange(r: IRangeRequest): Buffer {
  return rangeBody(r).done();
}

export function encodeTxn(t: ITxnRequest): Buffer {
  const w = new Writer();
  for (const c of t.compare ?? []) w.message(1, compareBody(c));
  for (const op of t.success ?? []) w.message(2, opBody(op));
  for (const op of t.failure ?? []) w.message(3, opBody(op));
  return w.done();
}

/** Calls `visit` for each field of `buf`: varints as numbers, length-delimited fields as slices. */
function walk(buf: Buffer, visit: (field: number, value: number | Buffer) => void): void {
  let off = 0;
  const varint = (): number => {
    let result = 0;
    for (let mul = 1; ; mul *= 128) {
      const b = buf[off++];
      if (b === undefined) throw new Error('etcd-wire: truncated varint');
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
    }
  };
  while (off < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) visit(tag >>> 3, varint());
    else if (wire === 2) {
      const len = varint();
      if (off + len > buf.length) throw new Error('etcd-wire: truncated field');
      visit(tag >>> 3, buf.subarray(off, off + len));
      off += len;
    } else if (wire === 1) off += 8;
    else if (wire === 5) off += 4;
    else throw new Error(`etcd-wire: unsupported wire type ${wire}`);
  }
}

const bytesOf = (v: number | Buffer): Buffer => (typeof v === 'number' ? Buffer.alloc(0) : v);
const numberOf = (v: number | Buffer): number => (typeof v === 'number' ? v : 0);

function decodeHeader(buf: Buffer): { revision: number } {
  let revision = 0;
  walk(buf, (f, v) => {
    if (f === 3) revision = numberOf(v);
  });
  return { revision };
}

function decodeKeyValue(buf: Buffer): EtcdKeyValue {
  let key: Buffer = Buffer.alloc(0);
  let value: Buffer = key;
  let create = 0;
  let mod = 0;
  walk(buf, (f, v) => {
    if (f === 1) key = bytesOf(v);
    else if (f === 2) create = numberOf(v);
    else if (f === 3) mod = numberOf(v);
    else if (f === 5) value = bytesOf(v);
  });
  return { key, value, create_revision: create, mod_revision: mod };
}

export function decodeRange(buf: Buffer): RangeResult {
  let header = { revision: 0 };
  const kvs: EtcdKeyValue[] = [];
  let more = false;
  walk(buf, (f, v) => {
    if (f === 1) header = decodeHeader(bytesOf(v));
    else if (f === 2) kvs.push(decodeKeyValue(bytesOf(v)));
    else if (f === 3) more = numberOf(v) !== 0;
  });
  return { header, kvs, more };
}

export function decodeTxn(buf: Buffer): TxnResult {
  let header = { revision: 0 };
  let succeeded = false;
  const responses: ResponseOp[] = [];
  walk(buf, (f, v) => {
    if (f === 1) header = decodeHeader(bytesOf(v));
    else if (f === 2) succeeded = numberOf(v) !== 0;
    else if (f === 3) {
      let op: ResponseOp = {};
      walk(bytesOf(v), (g, w) => {
        if (g === 1) op = { response_range: decodeRange(bytesOf(w)) };
      });
      responses.push(op);
    }
  });
  return { header, succeeded, responses };
}
