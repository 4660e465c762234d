/**
 * The host side of the boundary: blocking, synchronous framed I/O on the two
 * pipes the server opened for this process (fd 3 in, fd 4 out). Synchronous
 * on purpose: a script's bridge call must return a value without yielding to
 * an event loop, and a blocking read is the cheapest round trip there is.
 * Reads are buffered (one read(2) usually brings a whole frame, header and
 * body) and a frame goes out in one write(2). Must never import anything
 * from src/.
 */
import { readSync, writeSync } from 'node:fs';
import { FRAME_CALL, FRAME_ERROR, FRAME_JSON, FRAME_VALUE, FromHost, MAX_FRAME_BYTES, ToHost } from '../protocol';

const IN_FD = 3;
const OUT_FD = 4;

let inBuf = Buffer.alloc(64 * 1024);
let start = 0;
let end = 0;

/** Makes at least `min` bytes available from `start`; false at end of input. */
function fill(min: number): boolean {
  if (end - start >= min) return true;
  if (inBuf.length - start < min) {
    const next = min > inBuf.length ? Buffer.alloc(Math.max(min, inBuf.length * 2)) : inBuf;
    inBuf.copy(next, 0, start, end);
    inBuf = next;
    end -= start;
    start = 0;
  }
  while (end - start < min) {
    let n: number;
    try {
      n = readSync(IN_FD, inBuf, end, inBuf.length - end, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) return false;
    end += n;
  }
  return true;
}

/** The next frame's body as text, or undefined when the server closed the pipe. */
function receiveBody(): string | undefined {
  if (!fill(4)) return undefined;
  const length = inBuf.readUInt32LE(start);
  if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes exceeds the limit`);
  if (!fill(4 + length)) return undefined;
  const body = inBuf.toString('utf8', start + 4, start + 4 + length);
  start += 4 + length;
  if (start === end) start = end = 0;
  return body;
}

let outBuf = Buffer.alloc(64 * 1024);

function sendBody(body: string): void {
  const length = Buffer.byteLength(body, 'utf8');
  if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes exceeds the limit`);
  if (outBuf.length < 4 + length) outBuf = Buffer.alloc(Math.max(4 + length, outBuf.length * 2));
  outBuf.writeUInt32LE(length, 0);
  outBuf.write(body, 4, length, 'utf8');
  let off = 0;
  while (off < 4 + length) {
    try {
      off += writeSync(OUT_FD, outBuf, off, 4 + length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
  }
}

/** Next JSON message from the server, or undefined when the server closed the pipe. */
export function receive(): ToHost | undefined {
  const body = receiveBody();
  if (body === undefined) return undefined;
  if (body.charCodeAt(0) !== FRAME_JSON) throw new Error(`protocol: unexpected frame '${body[0]}' outside a bridge call`);
  return JSON.parse(body) as ToHost;
}

export function send(message: FromHost): void {
  sendBody(JSON.stringify(message));
}

/**
 * One bridge round trip: sends the call's JSON text, blocks for the answer and
 * returns it as the frame carried it, 'v' + JSON text or 'e' + message, or
 * undefined when the server closed the pipe.
 */
export function bridgeCall(request: string): string | undefined {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count bytes only for a call that could be too big.
  if (request.length * 3 >= MAX_FRAME_BYTES && Buffer.byteLength(request, 'utf8') >= MAX_FRAME_BYTES) return `${FRAME_ERROR}bridge call exceeds ${MAX_FRAME_BYTES} bytes`;
  // UTF-8 has no form for a lone surrogate (it would arrive as U+FFFD, another
  // key): send it as a JSON escape, which is the same string to the server's
  // parser, so the server sees exactly what the script asked for.
  const wellFormed = (request as string & { isWellFormed(): boolean }).isWellFormed() ? request : request.replace(/\p{Surrogate}/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  sendBody(FRAME_CALL + wellFormed);
  const reply = receiveBody();
  if (reply === undefined) return undefined;
  if (reply[0] !== FRAME_VALUE && reply[0] !== FRAME_ERROR) throw new Error(`protocol: expected a bridge answer, got frame '${reply[0]}'`);
  return reply;
}
