/**
 * The inbox: a buffer the sandbox owns inside Pyodide's memory (a bytearray
 * held by its machinery only, created before the memory image, so at the same
 * address for good) that the host writes longer strings into as UTF-8, so
 * that Python gets them by decoding bytes in C instead of through Pyodide's
 * string conversion (a JavaScript loop per character, ~3 ns each). What
 * crosses then is the byte count, a number.
 *
 * Must only be written while Python waits for the host (the bridge's answer,
 * a run's arguments), and only with strings Python reads back whole before
 * anything else writes here.
 */

/** The Emscripten module member this needs. */
export interface WasmHeap {
  readonly HEAPU8: Uint8Array;
}

/** Shorter strings convert as cheaply as they would decode. */
const MIN_CHARS = 32;

const encoder = new TextEncoder();

export class Inbox {
  constructor(
    private readonly wasm: WasmHeap,
    private readonly offset: number,
    private readonly length: number,
  ) {}

  /**
   * Writes `text` into the buffer and returns its UTF-8 byte count, or returns
   * `text` itself when it is short, does not fit, or is not well-formed
   * UTF-16 (UTF-8 cannot carry a lone surrogate).
   */
  put(text: string): string | number {
    if (text.length < MIN_CHARS || text.length > this.length) return text;
    if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) return text;
    // HEAPU8 is replaced when memory grows: take it afresh every time.
    const target = this.wasm.HEAPU8.subarray(this.offset, this.offset + this.length);
    const { read, written } = encoder.encodeInto(text, target);
    return read === text.length ? written : text;
  }
}
