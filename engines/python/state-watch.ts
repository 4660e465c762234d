/**
 * Which of the snapshot's objects a Python run changed, found from outside
 * Python so that a run that changes nothing pays (almost) nothing to be rolled
 * back. Dicts are watched with CPython's dict watchers (PyDict_AddWatcher: a
 * callback on every change, any code path); lists, sets and each instance's
 * __dict__ pointer are compared word for word in wasm memory against a copy.
 * Python never sees any of this: it only gets the ids to restore. Must never
 * call into Python from the watcher callback, and must refuse to start (so the
 * engine restores everything) whenever memory does not look as expected.
 */

/** The few Emscripten module members this needs (Pyodide exports the C API). */
export interface WasmPython {
  readonly HEAPU32: Uint32Array;
  addFunction(fn: (...args: number[]) => number, signature: string): number;
  _PyDict_AddWatcher(callback: number): number;
  _PyDict_Watch(watcherId: number, dict: number): number;
}

/** What the Python side's take_snapshot() reports: ids (addresses) and sizes. */
export interface SnapshotPlan {
  readonly dicts: readonly number[];
  readonly lists: readonly (readonly [number, number])[];
  readonly sets: readonly (readonly [number, number])[];
  /** [instance, offset of its __dict__ pointer or null, the dict's id]. */
  readonly bindings: readonly (readonly [number, number | null, number])[];
  readonly listType: number;
  readonly setType: number;
}

// CPython 3.14, wasm32 (checked against every object at install):
// PyListObject: refcnt, type, size, ob_item. PySetObject: refcnt, type, fill, used, mask, table.
const TYPE = 1;
const LIST_SIZE = 2;
const LIST_ITEMS = 3;
const SET_FILL = 2;
const SET_USED = 3;
const SET_MASK = 4;
const SET_TABLE = 5;
/** Consecutive watched words worth one native compare rather than a loop. */
const SPAN_WORDS = 32;

/**
 * A list or set as words of wasm memory: its header words (list: size, item
 * pointer; set: fill, used, mask, table pointer) then its items (set: key and
 * hash per slot). `saved` is the copy rebase() took.
 */
interface Region {
  readonly id: number;
  readonly isList: boolean;
  saved: Uint32Array;
}

function headWords(r: Region): number {
  return r.isList ? 2 : 4;
}

/** Where the items start (word index) and how many words they take, now. */
function itemsOf(r: Region, heap: Uint32Array): [number, number] {
  const at = r.id >>> 2;
  if (r.isList) return [(heap[at + LIST_ITEMS] as number) >>> 2, heap[at + LIST_SIZE] as number];
  return [(heap[at + SET_TABLE] as number) >>> 2, ((heap[at + SET_MASK] as number) + 1) * 2];
}

function read(r: Region, heap: Uint32Array): Uint32Array {
  const head = headWords(r);
  const first = (r.id >>> 2) + (r.isList ? LIST_SIZE : SET_FILL);
  const [start, count] = itemsOf(r, heap);
  const out = new Uint32Array(head + count);
  out.set(heap.subarray(first, first + head), 0);
  out.set(heap.subarray(start, start + count), head);
  return out;
}

function unchanged(r: Region, heap: Uint32Array): boolean {
  const saved = r.saved;
  const head = headWords(r);
  const first = (r.id >>> 2) + (r.isList ? LIST_SIZE : SET_FILL);
  for (let i = 0; i < head; i++) if (heap[first + i] !== saved[i]) return false;
  // Same size and same item pointer (both in the header): compare the items.
  const [start, count] = itemsOf(r, heap);
  for (let i = 0; i < count; i++) if (heap[start + i] !== saved[head + i]) return false;
  return true;
}

export class StateWatch {
  /** Watched dicts changed since the last settle(), by id. */
  private readonly dirty = new Set<number>();
  private readonly regions: Region[] = [];
  /** Instance, word index of its __dict__ pointer, the dict that belongs there. */
  private readonly bindings: { readonly id: number; readonly slot: number; readonly dict: number }[] = [];
  /** Every watched word (bindings, then each region's header and items) and its value at rebase(). */
  private flatAt = new Uint32Array(0);
  /** Runs of at least SPAN_WORDS consecutive watched words: where they start, and their words at rebase(). */
  private spans: { readonly byte: number; readonly saved: Buffer }[] = [];
  /** All of wasm memory as a Buffer (made again when memory grows). */
  private heapBytes: Buffer | undefined;
  private flatExpect = new Uint32Array(0);

  private constructor(private readonly wasm: WasmPython) {}

  /**
   * Starts watching the snapshot's objects, or returns undefined when this
   * Python does not look like the one this was written against (the engine
   * then restores everything after every run).
   */
  static install(wasm: WasmPython, plan: SnapshotPlan): StateWatch | undefined {
    const watch = new StateWatch(wasm);
    const heap = wasm.HEAPU32;
    for (const [id, len] of plan.lists) {
      const at = id >>> 2;
      if (id % 4 !== 0 || heap[at + TYPE] !== plan.listType || heap[at + LIST_SIZE] !== len) return undefined;
      watch.regions.push({ id, isList: true, saved: new Uint32Array(0) });
    }
    for (const [id, len] of plan.sets) {
      const at = id >>> 2;
      const mask = heap[at + SET_MASK] as number;
      const ok =
        id % 4 === 0 &&
        heap[at + TYPE] === plan.setType &&
        heap[at + SET_USED] === len &&
        (mask & (mask + 1)) === 0 &&
        mask >= 7;
      if (!ok) return undefined;
      watch.regions.push({ id, isList: false, saved: new Uint32Array(0) });
    }
    for (const [id, offset, dict] of plan.bindings) {
      if (offset === null || (id + offset) % 4 !== 0 || heap[(id + offset) >>> 2] !== dict) return undefined;
      watch.bindings.push({ id, slot: (id + offset) >>> 2, dict });
    }
    const dirty = watch.dirty;
    // (event, dict, key, new_value) -> 0; called before each change.
    const callback = wasm.addFunction((_event: number, dict: number) => {
      dirty.add(dict);
      return 0;
    }, 'iiiii');
    const watcher = wasm._PyDict_AddWatcher(callback);
    if (watcher < 0) return undefined;
    for (const id of plan.dicts) {
      if (wasm._PyDict_Watch(watcher, id) !== 0) return undefined;
    }
    watch.rebase();
    return watch;
  }

  /** Ids of changed objects as restore() takes them ("b<id>": a swapped __dict__); '' when none. */
  changed(): string {
    const heap = this.wasm.HEAPU32;
    if (this.dirty.size === 0 && this.allSame(heap)) return '';
    const out: string[] = [];
    for (const b of this.bindings) if (heap[b.slot] !== b.dict) out.push(`b${b.id}`);
    for (const id of this.dirty) out.push(String(id));
    for (const r of this.regions) if (!unchanged(r, heap)) out.push(String(r.id));
    return out.join(' ');
  }

  /**
   * The common case, every word at once. Items are read at the addresses
   * saved at rebase(): if a header moved them, that header's own word differs
   * and the answer is false anyway.
   */
  private allSame(heap: Uint32Array): boolean {
    if (this.heapBytes?.buffer !== heap.buffer) this.heapBytes = Buffer.from(heap.buffer, 0, heap.byteLength);
    const bytes = this.heapBytes;
    for (const { byte, saved } of this.spans) {
      if (bytes.compare(saved, 0, saved.length, byte, byte + saved.length) !== 0) return false;
    }
    const at = this.flatAt;
    const expect = this.flatExpect;
    for (let i = 0; i < at.length; i++) if (heap[at[i] as number] !== expect[i]) return false;
    return true;
  }

  /** After a restore: what memory holds now is the snapshot again. */
  rebase(): void {
    this.dirty.clear();
    const heap = this.wasm.HEAPU32;
    const at: number[] = [];
    const expect: number[] = [];
    for (const b of this.bindings) {
      at.push(b.slot);
      expect.push(b.dict);
    }
    for (const r of this.regions) {
      r.saved = read(r, heap);
      const head = headWords(r);
      const first = (r.id >>> 2) + (r.isList ? LIST_SIZE : SET_FILL);
      const [start] = itemsOf(r, heap);
      for (let i = 0; i < r.saved.length; i++) {
        at.push(i < head ? first + i : start + i - head);
        expect.push(r.saved[i] as number);
      }
    }
    // In address order, long runs of consecutive words (the items of big
    // lists and sets) apart: those are compared natively, a memcmp each.
    // Order does not matter otherwise: when every header word is as saved,
    // the items are where they were.
    const order = at.map((_, i) => i).sort((a, b) => (at[a] as number) - (at[b] as number));
    const looseAt: number[] = [];
    const looseExpect: number[] = [];
    this.spans = [];
    for (let i = 0; i < order.length;) {
      let j = i + 1;
      while (j < order.length && at[order[j] as number] === (at[order[j - 1] as number] as number) + 1) j++;
      const run = order.slice(i, j);
      if (run.length >= SPAN_WORDS) {
        const saved = Uint32Array.from(run, (k) => expect[k] as number);
        this.spans.push({ byte: (at[run[0] as number] as number) * 4, saved: Buffer.from(saved.buffer) });
      } else {
        for (const k of run) {
          looseAt.push(at[k] as number);
          looseExpect.push(expect[k] as number);
        }
      }
      i = j;
    }
    this.flatAt = Uint32Array.from(looseAt);
    this.flatExpect = Uint32Array.from(looseExpect);
  }
}
