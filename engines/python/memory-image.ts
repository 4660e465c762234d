/**
 * A saved copy of Pyodide's whole wasm memory, and putting it back: the
 * Python engine's way to bring an interpreter back to a known-clean state
 * whatever a run changed (C-level registries, caches, closures, objects at any
 * depth: everything Python is lives in linear memory).
 *
 * What lies outside linear memory and refers into it is kept consistent:
 * - the wasm stack pointer (a wasm global): images are taken and restored
 *   only between calls into Python, where it is at its base, and it is set
 *   back anyway;
 * - memory growth: wasm memory cannot shrink, so the part above the image
 *   that the allocator used since (up to its break, read from memory before
 *   the restore) is zeroed, as fresh memory would be;
 * - open files (Emscripten keeps its descriptor table in JavaScript): a
 *   descriptor opened since the image is closed, and one the image had open
 *   that a run closed (os.close raises no audit event) is put back, so
 *   descriptor numbers and open files are as at the image;
 * - Pyodide's JS-side reference table (hiwire): an image only holds references
 *   that live as long as the host (the bridge, Pyodide's own), and a restore
 *   happens only when no Python call is under way, so no JsProxy made after
 *   the image survives it and none the image holds was freed.
 *
 * The image keeps only the pages that were not all zero (about half of
 * Pyodide's memory is zero pages inside the heap: ~14 MiB per host not kept);
 * a restore writes those back and zeroes the rest, so memory reads exactly as
 * a full copy would make it.
 *
 * Must never be restored while Python is running, and must never be taken
 * while the interpreter holds state a script made (the engine takes it only
 * at boot and right after compiling on a clean interpreter).
 */

/** The Emscripten module members this needs. */
export interface WasmMemory {
  readonly HEAPU8: Uint8Array;
  readonly HEAPU32: Uint32Array;
  _emscripten_get_sbrk_ptr(): number;
  _emscripten_stack_get_current(): number;
  __emscripten_stack_restore(sp: number): void;
  /** Emscripten's file system: its descriptor table lives in JavaScript. */
  readonly FS?: { readonly streams: (FsStream | null | undefined)[]; close(stream: FsStream): void };
}

/** An Emscripten stream: its descriptor number is a field of its own. */
export interface FsStream {
  fd: number | null;
}

/** The unit the image skips when all zero: a wasm memory page is 64 KiB, an OS page 4 KiB. */
const PAGE = 4096;
const ZERO_PAGE = Buffer.alloc(PAGE);

/** Memory's bytes from `at` on, a run of whole pages not all zero. */
interface Run {
  readonly at: number;
  readonly bytes: Uint8Array;
}

export class MemoryImage {
  /** Memory's length when the image was taken, and its runs of pages that were not all zero. */
  private length = 0;
  private runs: Run[] = [];
  private stackPointer = 0;
  private brkAddress = 0;
  /** Descriptors open when the image was taken, and their streams. */
  private openAtImage = new Map<number, FsStream>();

  private constructor(private readonly wasm: WasmMemory) {}

  /** Takes the first image; undefined when this Pyodide lacks what a restore needs. */
  static take(wasm: WasmMemory): MemoryImage | undefined {
    const needed = ['_emscripten_get_sbrk_ptr', '_emscripten_stack_get_current', '__emscripten_stack_restore'] as const;
    if (needed.some((name) => typeof wasm[name] !== 'function')) return undefined;
    const image = new MemoryImage(wasm);
    image.brkAddress = wasm._emscripten_get_sbrk_ptr();
    image.retake();
    return image;
  }

  /** Bytes the image holds. */
  get bytes(): number {
    return this.runs.reduce((sum, run) => sum + run.bytes.length, 0);
  }

  /** Makes what memory holds now the image. */
  retake(): void {
    const heap = this.wasm.HEAPU8;
    this.length = heap.length;
    this.runs = nonZeroRuns(heap);
    this.stackPointer = this.wasm._emscripten_stack_get_current();
    const streams = this.wasm.FS?.streams ?? [];
    this.openAtImage = new Map(this.openDescriptors().map((fd) => [fd, streams[fd] as FsStream]));
  }

  private openDescriptors(): number[] {
    const streams = this.wasm.FS?.streams ?? [];
    const open: number[] = [];
    for (let fd = 0; fd < streams.length; fd++) if (streams[fd]) open.push(fd);
    return open;
  }

  /** Puts the image back. */
  restore(): void {
    const heap = this.wasm.HEAPU8;
    const end = this.length;
    // The allocator's break now, before the image overwrites it: memory above
    // the image was used up to there, and must read as zero again.
    const brk = this.wasm.HEAPU32[this.brkAddress >>> 2] as number;
    let at = 0;
    for (const run of this.runs) {
      if (run.at > at) heap.fill(0, at, run.at);
      heap.set(run.bytes, run.at);
      at = run.at + run.bytes.length;
    }
    if (end > at) heap.fill(0, at, end);
    if (heap.length > end && brk > end) heap.fill(0, end, Math.min(brk, heap.length));
    const fs = this.wasm.FS;
    if (fs !== undefined) {
      for (const fd of this.openDescriptors()) {
        const stream = fs.streams[fd] as FsStream;
        if (this.openAtImage.get(fd) !== stream) fs.close(stream);
      }
      // Closing only drops a stream from the table (files here are in memory,
      // ttys keep nothing): putting it back reopens it as it was.
      for (const [fd, stream] of this.openAtImage) {
        if (fs.streams[fd] !== stream) {
          stream.fd = fd;
          fs.streams[fd] = stream;
        }
      }
    }
    if (this.wasm._emscripten_stack_get_current() !== this.stackPointer)
      this.wasm.__emscripten_stack_restore(this.stackPointer);
  }
}

/** Copies of `heap`'s runs of pages that are not all zero (compared natively, a page at a time). */
function nonZeroRuns(heap: Uint8Array): Run[] {
  const view = Buffer.from(heap.buffer, heap.byteOffset, heap.length);
  const runs: Run[] = [];
  let start = -1;
  const close = (end: number): void => {
    if (start >= 0) runs.push({ at: start, bytes: heap.slice(start, end) });
    start = -1;
  };
  for (let page = 0; page < heap.length; page += PAGE) {
    const end = Math.min(page + PAGE, heap.length);
    if (view.compare(ZERO_PAGE, 0, end - page, page, end) === 0) close(page);
    else if (start < 0) start = page;
  }
  close(heap.length);
  return runs;
}
