/**
 * The host side of the boundary: blocking, synchronous framed I/O on the two
 * pipes the server opened for this process (fd 3 in, fd 4 out), through the
 * one frame codec (engines/frame.ts). Synchronous on purpose: a script's
 * bridge call must return a value without yielding to an event loop, and a
 * blocking read is the cheapest round trip there is. Reads are buffered (one
 * read(2) usually brings a whole frame, header and body) and a frame goes out
 * in one write(2). The server may send the next run while this one is still
 * going (pipelining): a run message that arrives while a bridge call waits
 * for its answer is kept, in order, for the next receive(). Must never
 * import anything from src/.
 */
import { readSync, writeSync } from 'node:fs';
import { FrameDecoder, FrameEncoder } from '../frame';
import {
  FRAME_CALL,
  FRAME_ERROR,
  FRAME_JSON,
  FRAME_VALUE,
  FRAME_DENIED,
  type FromHost,
  MAX_FRAME_BYTES,
  type ToHost,
} from '../protocol';

const IN_FD = 3;
const OUT_FD = 4;

const decoder = new FrameDecoder(MAX_FRAME_BYTES);
const encoder = new FrameEncoder(MAX_FRAME_BYTES);

/** JSON messages that arrived during a bridge call (the server sent the next run early), oldest first. */
const early: string[] = [];
/** More than this many early messages is not the protocol: the server queues at most one run behind another. */
const MAX_EARLY = 4;

/** Reads until a whole frame is buffered; false at end of input. */
function fill(): boolean {
  for (;;) {
    const { buffer, offset, length } = decoder.space(Math.max(1, decoder.missing()));
    let n: number;
    try {
      n = readSync(IN_FD, buffer, offset, length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) return false;
    decoder.commit(n);
    if (decoder.missing() === 0) return true;
  }
}

/** The next frame's body as text, or undefined when the server closed the pipe. */
export function receiveFrame(): string | undefined {
  let body = decoder.next();
  while (body === undefined) {
    if (!fill()) return undefined;
    body = decoder.next();
  }
  return body.toString('utf8');
}

/** Sends one frame's body (all of it, whatever write(2) takes at a time). */
export function sendFrame(body: string): void {
  const frame = encoder.encode(body);
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

/** Next JSON message from the server, or undefined when the server closed the pipe. */
export function receive(): ToHost | undefined {
  const body = early.shift() ?? receiveFrame();
  if (body === undefined) return undefined;
  if (body.charCodeAt(0) !== FRAME_JSON)
    throw new Error(`protocol: unexpected frame '${body[0]}' outside a bridge call`);
  return JSON.parse(body) as ToHost;
}

export function send(message: FromHost): void {
  sendFrame(JSON.stringify(message));
}

/**
 * One bridge round trip: sends the call's JSON text, blocks for the answer and
 * returns it as the frame carried it ('v' + JSON text, 'e' + message, or
 * 'd' + message for a call the caller may not make), or undefined when the
 * server closed the pipe.
 */
export function bridgeCall(request: string): string | undefined {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count bytes only for a call that could be too big.
  if (request.length * 3 >= MAX_FRAME_BYTES && Buffer.byteLength(request, 'utf8') >= MAX_FRAME_BYTES)
    return `${FRAME_ERROR}bridge call exceeds ${MAX_FRAME_BYTES} bytes`;
  // UTF-8 has no form for a lone surrogate (it would arrive as U+FFFD, another
  // key): send it as a JSON escape, which is the same string to the server's
  // parser, so the server sees exactly what the script asked for.
  const wellFormed = (request as string & { isWellFormed(): boolean }).isWellFormed()
    ? request
    : request.replace(/\p{Surrogate}/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  sendFrame(FRAME_CALL + wellFormed);
  let reply = receiveFrame();
  // The next run, sent before this call's answer: kept for receive().
  while (reply !== undefined && reply.charCodeAt(0) === FRAME_JSON) {
    if (early.length >= MAX_EARLY) throw new Error('protocol: too many messages during a bridge call');
    early.push(reply);
    reply = receiveFrame();
  }
  if (reply === undefined) return undefined;
  if (reply[0] !== FRAME_VALUE && reply[0] !== FRAME_ERROR && reply[0] !== FRAME_DENIED)
    throw new Error(`protocol: expected a bridge answer, got frame '${reply[0]}'`);
  return reply;
}
