/**
 * Just enough protobuf for the bench's lean clients: a writer for the few
 * request messages we send (strings, bytes, varints, nested messages) and a
 * reader that walks a message's fields. No schema, no reflection, no
 * allocation beyond the output buffer: the point is to keep the load
 * generator's CPU per call small so it does not distort the server's figures.
 */

export type Field = string | Buffer | number | boolean | Msg | undefined;
/** A message: [field number, value] pairs, in order. Arrays repeat a field. */
export type Msg = readonly (readonly [number, Field | readonly Field[]])[];

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, off: number, n: number): number {
  while (n >= 0x80) {
    buf[off++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

/** Encodes a message; zero/empty scalars are skipped as proto3 does. */
export function encode(msg: Msg): Buffer {
  const parts: Buffer[] = [];
  const push = (field: number, value: Field): void => {
    if (value === undefined) return;
    if (typeof value === 'number' || typeof value === 'boolean') {
      const n = Number(value);
      if (n === 0) return;
      const b = Buffer.allocUnsafe(varintSize(field << 3) + varintSize(n));
      writeVarint(b, writeVarint(b, 0, field << 3), n);
      parts.push(b);
      return;
    }
    const body =
      typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.isBuffer(value) ? value : encode(value);
    if (body.length === 0 && typeof value === 'string') return;
    const head = Buffer.allocUnsafe(varintSize((field << 3) | 2) + varintSize(body.length));
    writeVarint(head, writeVarint(head, 0, (field << 3) | 2), body.length);
    parts.push(head, body);
  };
  for (const [field, value] of msg) {
    if (Array.isArray(value)) for (const v of value as readonly Field[]) push(field, v);
    else push(field, value as Field);
  }
  return Buffer.concat(parts);
}

/** Calls `visit` for each field: varints as numbers, length-delimited as buffer slices. */
export function walk(buf: Buffer, visit: (field: number, value: number | Buffer) => void): void {
  let off = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = buf[off++];
      if (b === undefined) throw new Error('truncated varint');
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  };
  while (off < buf.length) {
    const tag = varint();
    const field = tag >>> 3;
    switch (tag & 7) {
      case 0:
        visit(field, varint());
        break;
      case 2: {
        const len = varint();
        visit(field, buf.subarray(off, off + len));
        off += len;
        break;
      }
      case 1:
        off += 8;
        break;
      case 5:
        off += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
  }
}

/** The first string value of `field`, or '' (proto3 default). */
export function stringField(buf: Buffer, field: number): string {
  let out = '';
  walk(buf, (f, v) => {
    if (f === field && typeof v !== 'number' && out === '') out = v.toString('utf8');
  });
  return out;
}

/** Number of occurrences of `field` (a repeated field's length). */
export function countField(buf: Buffer, field: number): number {
  let n = 0;
  walk(buf, (f) => {
    if (f === field) n++;
  });
  return n;
}
