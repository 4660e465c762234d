/**
 * The one frame codec (engines/frame.ts): frames survive any chunking, the
 * decoder takes linear time however a stream is cut, and a frame over the
 * limit is refused from its header alone, before its body is buffered.
 */
import { encodeFrame, FrameDecoder, FrameEncoder, FrameError } from '../../engines/frame';

const bodies = ['{"t":"ready"}', 'c{"op":"get","bucket":"b","key":"k"}', 'v' + 'x'.repeat(70_000), '', 'é🙂'];

test('frames round-trip whatever the chunking, one byte at a time included', () => {
  const stream = Buffer.concat(bodies.map((b) => encodeFrame(b, 1 << 20)));
  for (const size of [1, 3, 7, 4096, stream.length]) {
    const decoder = new FrameDecoder(1 << 20, 16);
    const seen: string[] = [];
    for (let i = 0; i < stream.length; i += size) {
      decoder.push(stream.subarray(i, i + size));
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) seen.push(f.toString('utf8'));
    }
    expect(seen).toEqual(bodies);
    expect(decoder.buffered).toBe(0);
  }
});

test('the reusable encoder writes the same bytes as encodeFrame', () => {
  const encoder = new FrameEncoder(1 << 20);
  for (const b of bodies) expect(Buffer.compare(encoder.encode(b), encodeFrame(b, 1 << 20))).toBe(0);
});

test('a frame over the limit is refused from its header, before any body arrives', () => {
  const decoder = new FrameDecoder(1024);
  const header = Buffer.alloc(4);
  header.writeUInt32LE(1025, 0);
  decoder.push(header);
  expect(() => decoder.next()).toThrow(FrameError);
  expect(() => encodeFrame('x'.repeat(1025), 1024)).toThrow(/exceeds the limit of 1024/);
});

test('decoding is linear: an 8 MiB frame in 1 KiB chunks costs about what it costs in 64 KiB chunks', () => {
  const frame = encodeFrame('v' + 'y'.repeat(8 * 1024 * 1024), 16 << 20);
  const time = (chunk: number): number => {
    const decoder = new FrameDecoder(16 << 20);
    const started = process.hrtime.bigint();
    let got = 0;
    for (let i = 0; i < frame.length; i += chunk) {
      decoder.push(frame.subarray(i, i + chunk));
      if (decoder.next() !== undefined) got++;
    }
    expect(got).toBe(1);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  time(65536);
  const big = time(65536);
  const small = time(1024);
  // A concat per chunk would copy ~32 GiB here: tens of seconds, not milliseconds.
  expect(small).toBeLessThan(Math.max(2000, big * 200));
});
