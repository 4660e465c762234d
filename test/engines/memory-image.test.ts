/**
 * MemoryImage (engines/python/memory-image.ts) on a fake wasm memory: the
 * image keeps only pages that were not all zero, and a restore brings back
 * every byte of the memory as it was, zero pages included, whatever a run
 * wrote and wherever; memory grown past the image reads zero up to the
 * allocator's break.
 */
import fc from 'fast-check';
import { MemoryImage, type WasmMemory } from '../../engines/python/memory-image';

const PAGE = 4096;
const BRK_ADDRESS = 16; // where the fake allocator keeps its break (inside page 0)

function fakeWasm(bytes: Uint8Array): WasmMemory & { grow(to: number): void } {
  let buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  let sp = 1000;
  const wasm = {
    get HEAPU8() {
      return new Uint8Array(buffer);
    },
    get HEAPU32() {
      return new Uint32Array(buffer);
    },
    _emscripten_get_sbrk_ptr: () => BRK_ADDRESS,
    _emscripten_stack_get_current: () => sp,
    __emscripten_stack_restore: (to: number) => {
      sp = to;
    },
    grow(to: number) {
      const next = new ArrayBuffer(to);
      new Uint8Array(next).set(new Uint8Array(buffer));
      buffer = next;
    },
  };
  return wasm;
}

/** A memory of `pages` pages, each all zero or holding some bytes, with its break at its end. */
const memory = fc
  .array(fc.oneof(fc.constant(null), fc.uint8Array({ minLength: 1, maxLength: 64 })), { minLength: 2, maxLength: 24 })
  .map((pages) => {
    const bytes = new Uint8Array(pages.length * PAGE);
    pages.forEach((fill, i) => {
      if (fill !== null) bytes.set(fill, i * PAGE + ((i * 97) % (PAGE - 64)));
    });
    new DataView(bytes.buffer).setUint32(BRK_ADDRESS, bytes.length, true);
    return bytes;
  });

/** Writes a run makes: (offset as a fraction of memory, bytes). */
const writes = fc.array(
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.uint8Array({ minLength: 1, maxLength: 200 })),
  {
    maxLength: 20,
  },
);

test('a restore brings back every byte, zero pages included, whatever the run wrote', () => {
  fc.assert(
    fc.property(memory, writes, (original, scribbles) => {
      const wasm = fakeWasm(original);
      const image = MemoryImage.take(wasm) as MemoryImage;
      const nonZeroPages = Array.from({ length: original.length / PAGE }, (_, p) =>
        original.subarray(p * PAGE, (p + 1) * PAGE).some((b) => b !== 0),
      ).filter(Boolean).length;
      expect(image.bytes).toBe(nonZeroPages * PAGE);
      for (const [where, bytes] of scribbles) {
        const at = Math.min(Math.floor(where * original.length), original.length - bytes.length);
        if (at >= 0) wasm.HEAPU8.set(bytes, at);
      }
      image.restore();
      expect(Buffer.from(wasm.HEAPU8).equals(Buffer.from(original))).toBe(true);
    }),
    { numRuns: 300 },
  );
});

test('memory grown past the image reads zero again up to the break after a restore', () => {
  const original = new Uint8Array(4 * PAGE);
  original.fill(7, PAGE, PAGE + 100);
  new DataView(original.buffer).setUint32(BRK_ADDRESS, original.length, true);
  const wasm = fakeWasm(original);
  const image = MemoryImage.take(wasm) as MemoryImage;
  wasm.grow(8 * PAGE);
  wasm.HEAPU8.fill(0xab, 3 * PAGE, 8 * PAGE);
  new DataView(wasm.HEAPU8.buffer).setUint32(BRK_ADDRESS, 7 * PAGE, true);
  image.restore();
  const heap = wasm.HEAPU8;
  expect(Buffer.from(heap.subarray(0, 4 * PAGE)).equals(Buffer.from(original))).toBe(true);
  expect(heap.subarray(4 * PAGE, 7 * PAGE).every((b) => b === 0)).toBe(true);
});
