/**
 * The child side of the bare ping-pong: the physical floor of the engine
 * bridge. Like an engine host (engines/host/channel.ts) it reads fd 3 and
 * writes fd 4 with blocking readSync/writeSync and 4-byte length frames; it
 * asks, the parent answers from its event loop, exactly the shape of a
 * bridge call, minus all the work. A "go" frame ('g' + JSON {ms, call})
 * starts a timed loop; the child answers with 's' + JSON stats. With
 * `parse`, it decodes each reply as a host does (envelope, then value).
 */
import { readSync, writeSync } from 'node:fs';

const IN = 3;
const OUT = 4;

function readExactly(buf: Buffer, length: number): boolean {
  let off = 0;
  while (off < length) {
    let n: number;
    try {
      n = readSync(IN, buf, off, length - off, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) return false;
    off += n;
  }
  return true;
}

function writeAll(frame: Buffer): void {
  let off = 0;
  while (off < frame.length) {
    try {
      off += writeSync(OUT, frame, off, frame.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

function frameOf(text: string): Buffer {
  const body = Buffer.from(text);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

const header = Buffer.alloc(4);
let body = Buffer.alloc(64 * 1024);

function receive(): string | undefined {
  if (!readExactly(header, 4)) return undefined;
  const length = header.readUInt32LE(0);
  if (body.length < length) body = Buffer.alloc(length);
  if (!readExactly(body, length)) return undefined;
  return body.toString('utf8', 0, length);
}

for (;;) {
  const go = receive();
  if (go === undefined) break;
  const { ms, call, parse } = JSON.parse(go.slice(1)) as { ms: number; call: string; parse: boolean };
  const callFrame = frameOf(`c${call}`);
  const samples: number[] = [];
  const t0 = performance.now();
  const end = t0 + ms;
  let now = t0;
  while (now < end) {
    writeAll(callFrame);
    const reply = receive();
    if (reply === undefined) process.exit(0);
    // As an engine host does: the envelope, then the value inside it.
    if (parse) JSON.parse((JSON.parse(reply.slice(1)) as { value: string }).value);
    const t = performance.now();
    samples.push((t - now) * 1000);
    now = t;
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] ?? NaN;
  writeAll(
    frameOf(`s${JSON.stringify({ n: samples.length, seconds: (now - t0) / 1000, p50us: at(0.5), p99us: at(0.99) })}`),
  );
}
