/**
 * The one frame codec of the server <-> engine host pipes (the frames of
 * protocol.ts): a 4-byte little-endian length, then the body. Used by the
 * server (src/procedures/host-process.ts), the host's channel
 * (engines/host/channel.ts), the test fake host and the bench.
 *
 * The decoder is linear-time whatever the chunking (bytes are appended to one
 * growing buffer and compacted at most once per buffer's worth, never
 * concatenated per chunk) and bounds every frame: a header announcing more
 * than the limit is an error before a byte of the body is buffered. Must never
 * import anything from src/.
 */

/** A frame broke the codec's rules: the peer is not speaking the protocol. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

const HEADER_BYTES = 4;

/** One frame, header and body in one buffer (so one write(2) in the common case). */
export function encodeFrame(body: string, maxFrameBytes: number): Buffer {
  const length = Buffer.byteLength(body, 'utf8');
  if (length > maxFrameBytes) throw new FrameError(`frame of ${length} bytes exceeds the limit of ${maxFrameBytes}`);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32LE(length, 0);
  frame.write(body, HEADER_BYTES, length, 'utf8');
  return frame;
}

/**
 * Encodes into one reused buffer, for a synchronous writer that sends each
 * frame before encoding the next (the host's channel). The answer is valid
 * until the next call.
 */
export class FrameEncoder {
  private buf = Buffer.alloc(64 * 1024);

  constructor(private readonly maxFrameBytes: number) {}

  encode(body: string): Buffer {
    const length = Buffer.byteLength(body, 'utf8');
    if (length > this.maxFrameBytes)
      throw new FrameError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
    if (this.buf.length < HEADER_BYTES + length)
      this.buf = Buffer.alloc(Math.max(HEADER_BYTES + length, this.buf.length * 2));
    this.buf.writeUInt32LE(length, 0);
    this.buf.write(body, HEADER_BYTES, length, 'utf8');
    return this.buf.subarray(0, HEADER_BYTES + length);
  }
}

/**
 * Turns a byte stream into frame bodies. push() bytes as they arrive (or
 * fill them in place through space()/commit(), for a blocking reader), then
 * take frames with next() until it answers undefined.
 */
export class FrameDecoder {
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(
    private readonly maxFrameBytes: number,
    initialBytes = 64 * 1024,
  ) {
    this.buf = Buffer.alloc(initialBytes);
  }

  /** Bytes received but not yet taken as frames. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Appends received bytes (copied: the chunk may be reused by the caller). */
  push(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Free space of at least `min` bytes to read into; then commit() what was read. */
  space(min = 1): { readonly buffer: Buffer; readonly offset: number; readonly length: number } {
    this.reserve(min);
    return { buffer: this.buf, offset: this.end, length: this.buf.length - this.end };
  }

  commit(bytes: number): void {
    this.end += bytes;
  }

  /**
   * The next whole frame's body, or undefined until more bytes arrive. The
   * answer is a view into the decoder's buffer, valid until the next push(),
   * space() or next(): read it (e.g. toString) at once. Throws FrameError for
   * a frame over the limit, before its body is buffered.
   */
  next(): Buffer | undefined {
    if (this.end - this.start < HEADER_BYTES) return this.reset();
    const length = this.buf.readUInt32LE(this.start);
    if (length > this.maxFrameBytes)
      throw new FrameError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
    if (this.end - this.start < HEADER_BYTES + length) return undefined;
    const body = this.buf.subarray(this.start + HEADER_BYTES, this.start + HEADER_BYTES + length);
    this.start += HEADER_BYTES + length;
    return body;
  }

  /** How many more bytes the frame being received needs (0 when a whole frame or nothing is buffered). */
  missing(): number {
    const have = this.end - this.start;
    if (have < HEADER_BYTES) return have === 0 ? 0 : HEADER_BYTES - have;
    const length = this.buf.readUInt32LE(this.start);
    return Math.max(0, HEADER_BYTES + length - have);
  }

  private reset(): undefined {
    if (this.start === this.end) this.start = this.end = 0;
    return undefined;
  }

  /** Room for `extra` more bytes: compact first, grow (doubling) only if still short. */
  private reserve(extra: number): void {
    if (this.buf.length - this.end >= extra) return;
    const live = this.end - this.start;
    if (this.start > 0 && this.buf.length - live >= extra) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      const next = Buffer.alloc(Math.max(live + extra, this.buf.length * 2));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
    }
    this.start = 0;
    this.end = live;
  }
}
