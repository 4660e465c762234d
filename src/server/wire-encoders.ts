/**
 * Protobuf encoders written by hand for the hottest responses (Get, List,
 * BatchGet, Put), plugged into grpc-js as those methods' responseSerialize.
 * protobufjs copies each message into its own object (fromObject) and then
 * walks it by reflection; here the handler's object is written straight to
 * one buffer: values are JSON text already, so their bytes go out as they
 * are. The bytes decode, with any protobuf library, to the message
 * protobufjs would have written (test/server/wire-encoders.test.ts). A
 * message outside the shapes handled here (a revision that is not a safe
 * non-negative integer, a field of the wrong type) goes to protobufjs
 * unchanged. A List whose items come frozen (an unchanged range the LevelDB
 * backend answered from its cache) is encoded once, and its bytes answer
 * every such List (src/derived.ts). Must never change what a message means.
 */
import type * as grpc from '@grpc/grpc-js';
import type { BatchGetResponse } from '../generated/lucien/v1/BatchGetResponse';
import { Derived } from '../derived';
import type { GetResponse } from '../generated/lucien/v1/GetResponse';
import type { Item as WireItem } from '../generated/lucien/v1/Item';
import type { ListResponse } from '../generated/lucien/v1/ListResponse';
import type { PutResponse } from '../generated/lucien/v1/PutResponse';

const LEN = 2;

function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** What a message's fields are, checked once before sizing: anything else goes to protobufjs. */
const isText = (v: unknown): v is string => typeof v === 'string';
const isRevision = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptionalRevision = (v: unknown): v is number | undefined => v === undefined || isRevision(v);

/** Bytes of a string field (0 when empty: proto3 leaves it out). */
const textField = (bytes: number): number => (bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes);
const revisionField = (n: number): number => (n === 0 ? 0 : 1 + varintSize(n));

/**
 * Node's unchecked string writers (protobufjs uses them too): Buffer#write
 * checks its arguments and costs three times as much per string.
 */
interface RawBuffer extends Buffer {
  utf8Write(s: string, offset: number): number;
  latin1Write(s: string, offset: number): number;
}

/** Writes into one buffer sized up front. Field numbers here are all below 16: one tag byte. */
class Out {
  readonly buf: RawBuffer;
  private at = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size) as RawBuffer;
  }

  varint(n: number): void {
    while (n > 0x7f) {
      // & keeps the low 7 bits of any safe integer (2^32 is a multiple of 128).
      this.buf[this.at++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.at++] = n;
  }

  text(field: number, s: string, bytes: number): void {
    if (bytes === 0) return;
    this.buf[this.at++] = (field << 3) | LEN;
    this.varint(bytes);
    // As many bytes as UTF-16 units: ASCII only, which latin1 writes byte for byte, faster.
    this.at += bytes === s.length ? this.buf.latin1Write(s, this.at) : this.buf.utf8Write(s, this.at);
  }

  revision(field: number, n: number): void {
    if (n === 0) return;
    this.buf[this.at++] = field << 3;
    this.varint(n);
  }

  bool(field: number, b: boolean): void {
    if (!b) return;
    this.buf[this.at++] = field << 3;
    this.buf[this.at++] = 1;
  }

  message(field: number, bytes: number): void {
    this.buf[this.at++] = (field << 3) | LEN;
    this.varint(bytes);
  }

  done(): Buffer {
    if (this.at !== this.buf.length) throw new Error(`encoder wrote ${this.at} of ${this.buf.length} bytes`);
    return this.buf;
  }
}

export function encodeGetResponse(m: GetResponse): Buffer | undefined {
  const { value, create_revision: created, mod_revision: modified } = m;
  if (!isText(value) || !isRevision(created) || !isRevision(modified)) return undefined;
  const bytes = Buffer.byteLength(value);
  const out = new Out(textField(bytes) + revisionField(created) + revisionField(modified));
  out.text(1, value, bytes);
  out.revision(2, created);
  out.revision(3, modified);
  return out.done();
}

export function encodePutResponse(m: PutResponse): Buffer | undefined {
  const { revision } = m;
  if (!isRevision(revision)) return undefined;
  const out = new Out(revisionField(revision));
  out.revision(1, revision);
  return out.done();
}

export function encodeListResponse(m: ListResponse): Buffer | undefined {
  const items = m.items ?? [];
  const token = m.next_page_token ?? '';
  if (!Array.isArray(items) || !isText(token)) return undefined;
  return listResponses.of(items, token);
}

/**
 * A ListResponse, once per frozen items array and token (a List of an
 * unchanged cached range): grpc-js copies the bytes into its frame, so the
 * same buffer answers every such List.
 */
const listResponses = new Derived(encodeList);

function encodeList(items: readonly WireItem[], token: string): Buffer | undefined {
  // Per item: key bytes, value bytes, body bytes.
  const sizes = new Array<number>(items.length * 3);
  const tokenBytes = Buffer.byteLength(token);
  let total = textField(tokenBytes);
  for (let i = 0; i < items.length; i++) {
    const { key, value, create_revision: created, mod_revision: modified } = items[i] ?? {};
    if (!isText(key) || !isText(value) || !isRevision(created) || !isRevision(modified)) return undefined;
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    const body = textField(keyBytes) + textField(valueBytes) + revisionField(created) + revisionField(modified);
    sizes[i * 3] = keyBytes;
    sizes[i * 3 + 1] = valueBytes;
    sizes[i * 3 + 2] = body;
    total += 1 + varintSize(body) + body;
  }
  const out = new Out(total);
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Required<WireItem>;
    out.message(1, sizes[i * 3 + 2] as number);
    out.text(1, item.key as string, sizes[i * 3] as number);
    out.text(2, item.value as string, sizes[i * 3 + 1] as number);
    out.revision(3, item.create_revision as number);
    out.revision(4, item.mod_revision as number);
  }
  out.text(2, token, tokenBytes);
  return out.done();
}

export function encodeBatchGetResponse(m: BatchGetResponse): Buffer | undefined {
  const entries = m.entries ?? [];
  const { revision } = m;
  if (!Array.isArray(entries) || !isOptionalRevision(revision)) return undefined;
  // Per entry: bucket bytes, key bytes, value bytes, body bytes.
  const sizes = new Array<number>(entries.length * 4);
  let total = revisionField(revision ?? 0);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] ?? {};
    const { bucket, key, value, create_revision: created, mod_revision: modified } = e;
    if (!isText(bucket) || !isText(key) || !isText(value) || typeof e.found !== 'boolean') return undefined;
    if (!isRevision(created) || !isRevision(modified)) return undefined;
    const b = Buffer.byteLength(bucket);
    const k = Buffer.byteLength(key);
    const v = Buffer.byteLength(value);
    const body =
      textField(b) + textField(k) + (e.found ? 2 : 0) + textField(v) + revisionField(modified) + revisionField(created);
    sizes[i * 4] = b;
    sizes[i * 4 + 1] = k;
    sizes[i * 4 + 2] = v;
    sizes[i * 4 + 3] = body;
    total += 1 + varintSize(body) + body;
  }
  const out = new Out(total);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Required<NonNullable<BatchGetResponse['entries']>[number]>;
    out.message(1, sizes[i * 4 + 3] as number);
    out.text(1, e.bucket as string, sizes[i * 4] as number);
    out.text(2, e.key as string, sizes[i * 4 + 1] as number);
    out.bool(3, e.found as boolean);
    out.text(4, e.value as string, sizes[i * 4 + 2] as number);
    out.revision(5, e.mod_revision as number);
    out.revision(6, e.create_revision as number);
  }
  out.revision(2, revision ?? 0);
  return out.done();
}

const ENCODERS: Record<string, (m: never) => Buffer | undefined> = {
  Get: encodeGetResponse,
  Put: encodePutResponse,
  List: encodeListResponse,
  BatchGet: encodeBatchGetResponse,
};

/** The service definition with the hand encoders as responseSerialize, protobufjs behind each for other shapes. */
export function withWireEncoders(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...service };
  for (const [method, encode] of Object.entries(ENCODERS)) {
    const definition = service[method];
    if (definition === undefined) throw new Error(`the service has no method ${method}`);
    const fallback = definition.responseSerialize;
    out[method] = { ...definition, responseSerialize: (m) => encode(m as never) ?? fallback(m) };
  }
  return out as grpc.ServiceDefinition;
}
