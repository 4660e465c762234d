/**
 * The host side of the boundary: blocking, synchronous framed I/O on the two
 * pipes the server opened for this process (fd 3 in, fd 4 out). Synchronous
 * on purpose: a script's bridge call must return a value without yielding to
 * an event loop, and a blocking read is the cheapest round trip there is.
 * Must never import anything from src/.
 */
import { readSync, writeSync } from 'node:fs';
import { FromHost, MAX_FRAME_BYTES, ToHost } from '../protocol';

const IN_FD = 3;
const OUT_FD = 4;

function readExactly(buf: Buffer, length: number): boolean {
  let off = 0;
  while (off < length) {
    let n: number;
    try {
      n = readSync(IN_FD, buf, off, length - off, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) return false;
    off += n;
  }
  return true;
}

const header = Buffer.alloc(4);
let body: Buffer = Buffer.alloc(64 * 1024);

/** Next message from the server, or undefined when the server closed the pipe. */
export function receive(): ToHost | undefined {
  if (!readExactly(header, 4)) return undefined;
  const length = header.readUInt32LE(0);
  if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes exceeds the limit`);
  if (body.length < length) body = Buffer.alloc(Math.max(length, body.length * 2));
  if (!readExactly(body, length)) return undefined;
  return JSON.parse(body.toString('utf8', 0, length)) as ToHost;
}

export function send(message: FromHost): void {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(4 + json.length);
  frame.writeUInt32LE(json.length, 0);
  json.copy(frame, 4);
  let off = 0;
  while (off < frame.length) {
    try {
      off += writeSync(OUT_FD, frame, off, frame.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
  }
}
