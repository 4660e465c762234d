/**
 * The Python engine inside its host process: loads Pyodide once, installs the
 * sandbox (sandbox.py and rollback.py, with bucket_api.py as what scripts
 * see), then compiles and runs scripts synchronously. Only strings cross between JavaScript and
 * Python here, and the one JavaScript function Python holds is the bridge,
 * which can do nothing but send validated protocol frames and never throws.
 *
 * Two rollbacks keep runs hermetic. After every run, what state-watch.ts saw
 * change (module, class and API dicts, lists, sets) is put back: cheap, and
 * enough between runs of one script. Before a run of a different script than
 * the one that last ran, and before every compile, the whole wasm memory is
 * put back from the image (memory-image.ts): whatever the last run changed,
 * at any depth, in C or in Python, is gone. The image holds the sandbox and
 * every script compiled so far (compiles run on a clean interpreter, and the
 * image is retaken before the next run, once for any number of compiles), so
 * compiled code survives a restore.
 *
 * Must never hand Python any other JavaScript object, and must never be
 * reused after Pyodide reports a fatal error or a state it cannot restore.
 */
import type { RunLimits, ScriptFailure } from '../protocol';
import type { HostBridge, HostEngine, RunOutcome } from '../host/host-engine';
import { bootPyodide } from './boot';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryImage, type WasmMemory } from './memory-image';
import { Inbox } from './inbox';
import { Prefetch } from './prefetch';
import { nextSeed } from './seed';
import { type SnapshotPlan, StateWatch, type WasmPython } from './state-watch';

/** What Pyodide hands back for a Python object that exports a buffer (the inbox). */
type PyBufferSource = { getBuffer(type: 'u8'): { data: Uint8Array; release(): void }; destroy(): void };

/** What Pyodide hands back for a Python callable: callable, destroyable. */
type PyCallable = ((...args: unknown[]) => unknown) & { destroy(): void };

/** A compiled script: its id in the Python-side code cache, plus what recompiles it. */
export interface PythonCompiled {
  /** Updated when the Python side evicted the code and it was compiled again. */
  id: number;
  readonly name: string;
  readonly source: string;
}

/** Filename compiled scripts carry, so tracebacks can find the script's own frames. */
const SCRIPT_FILE = '<script>';

/**
 * Restore rounds after a run before giving up on the instance: a round's
 * finalizers (released with the audit hook on) may change state again, and a
 * script could chain them forever.
 */
const SETTLE_ROUNDS = 4;

export class PythonEngine implements HostEngine<PythonCompiled> {
  readonly name = 'python';
  /** Set once Pyodide failed fatally: the host answers the run, then exits. */
  broken = false;
  /** The bridge of the run in progress; the Python side holds a function that reads it. */
  private current: HostBridge | undefined;
  /**
   * The script whose run last touched the interpreter since the image was
   * put back (undefined: the interpreter is the image). A run of any other
   * script, and any compile, restores the image first.
   */
  private dirtyOwner: PythonCompiled | undefined;
  /** Scripts were compiled since the image was taken: retake it before the next run, while the interpreter is clean. */
  private imageStale = false;
  /** Whole-memory restores so far, and their total time (for the host's own figures). */
  restores = 0;
  restoreMs = 0;
  /** Answers handed to a run ahead of its reads; the bridge above reports what it took. */
  readonly prefetch = new Prefetch();

  private constructor(
    /** Where longer strings for Python go (the bridge's answers, a run's prefetch). */
    readonly inbox: Inbox,
    readonly version: string,
    private readonly compileFn: PyCallable,
    private readonly runFn: PyCallable,
    private readonly restoreFn: PyCallable,
    private readonly releaseFn: PyCallable,
    private readonly discardFn: PyCallable,
    /** Undefined when watching is unavailable: then every run restores everything. */
    private readonly watch: StateWatch | undefined,
    /** Undefined when this Pyodide cannot be restored: then the host serves one run and is replaced (see run()). */
    private readonly image: MemoryImage | undefined,
  ) {}

  /**
   * Loads Pyodide from `indexURL` (a local folder: no network, no packages)
   * and installs the sandbox. `globalThis` never reaches Python: `js` is an
   * empty frozen object.
   */
  static async load(indexURL: string): Promise<PythonEngine> {
    const { pyodide, fromSnapshot } = await bootPyodide(indexURL);
    const self: { engine?: PythonEngine; inbox?: Inbox } = {};
    // The only JavaScript function Python ever gets: strings in, strings out,
    // no prototype (so no `.constructor` chain to Function).
    // It never throws: a JavaScript error would reach Python as an exception
    // holding host-realm objects.
    // `taken`: prefetched answers the script took since the last call (prefetch.ts), recorded first.
    // The answer comes back through the inbox when it is long (inbox.ts): its byte count crosses instead.
    const bridge = (text: unknown, taken: unknown): string | number => {
      try {
        const engine = self.engine;
        const bridgeNow = engine?.current;
        if (engine === undefined || bridgeNow === undefined) return 'ebridge: no run in progress';
        engine.prefetch.taken(typeof taken === 'string' ? taken : '');
        if (typeof text !== 'string') return 'ebridge: expected JSON text';
        engine.prefetch.crossed(text);
        return engine.inbox.put(bridgeNow.call(text));
      } catch {
        if (self.engine !== undefined) self.engine.broken = true;
        return 'ebucket bridge failed';
      }
    };
    Object.setPrototypeOf(bridge, null);
    Object.freeze(bridge);

    const namespace = pyodide.toPy({}) as unknown as { get(k: string): PyCallable; destroy(): void };
    // sandbox.py first: it swaps in the private builtins that rollback.py's and bridge.py's functions then get too.
    for (const file of ['sandbox.py', 'rollback.py', 'bridge.py']) {
      pyodide.runPython(readFileSync(join(__dirname, file), 'utf8'), {
        globals: namespace as never,
        filename: `<lucien-${file}>`,
      } as never);
    }
    const make = namespace.get('_lucien_make');
    const parts = make(bridge, SCRIPT_FILE, readFileSync(join(__dirname, 'bucket_api.py'), 'utf8')) as {
      get(i: number): PyCallable;
      destroy(): void;
    };
    const compileFn = parts.get(0);
    const runFn = parts.get(1);
    const snapshot = parts.get(2);
    const restoreFn = parts.get(3);
    const releaseFn = parts.get(4);
    const discardFn = parts.get(5);
    const inboxBuffer = parts.get(6) as unknown as PyBufferSource;
    parts.destroy();
    const wasm = (pyodide as unknown as { _module: WasmPython & WasmMemory })._module;
    const view = inboxBuffer.getBuffer('u8');
    self.inbox = new Inbox(wasm, view.data.byteOffset, view.data.byteLength);
    view.release();
    inboxBuffer.destroy();
    make.destroy();
    // Everything Python will ever need is loaded; freeze the state runs return to.
    const plan = JSON.parse(snapshot() as string) as SnapshotPlan;
    snapshot.destroy();
    namespace.destroy();
    const watch = StateWatch.install(wasm, plan);
    // Last: the image is the interpreter every run of a new script starts from.
    const image = MemoryImage.take(wasm);
    const engine = new PythonEngine(
      self.inbox,
      `pyodide ${pyodide.version}${fromSnapshot ? ' (from memory snapshot)' : ''}`,
      compileFn,
      runFn,
      restoreFn,
      releaseFn,
      discardFn,
      watch,
      image,
    );
    self.engine = engine;
    return engine;
  }

  compile(name: string, source: string): { ok: true; compiled: PythonCompiled } | { ok: false; error: ScriptFailure } {
    // Compiling runs no script code, but Python code all the same (warnings):
    // on a clean interpreter only, and what it adds is kept in the image.
    this.clean(undefined);
    const answer = this.callPython(() => this.compileFn(name, source));
    this.settle();
    this.imageStale = true;
    if (typeof answer !== 'string') return { ok: false, error: answer };
    const parsed = JSON.parse(answer) as { ok: true; id: number } | { ok: false; error: ScriptFailure };
    return parsed.ok ? { ok: true, compiled: { id: parsed.id, name, source } } : parsed;
  }

  /**
   * Forgets a compiled script's code object (the host loop says when: the
   * server owns the cache). Like compile: on a clean interpreter, and the
   * image is retaken before the next run so a restore cannot bring it back.
   */
  discard(compiled: PythonCompiled): void {
    this.prefetch.forget(compiled);
    this.clean(undefined);
    this.callPython(() => this.discardFn(compiled.id));
    this.settle();
    this.imageStale = true;
  }

  run(compiled: PythonCompiled, args: string, bridge: HostBridge, limits: RunLimits): RunOutcome {
    this.prepare(compiled);
    if (this.broken)
      return {
        ok: false,
        error: { kind: 'error', type: 'EngineFailed', message: 'the Python engine failed and is restarting' },
        logs: [],
      };
    this.current = bridge;
    this.dirtyOwner = compiled;
    // Without an image there is no way back from a run: this host serves
    // this one run, then exits and is replaced.
    if (this.image === undefined) this.broken = true;
    const prefetched = this.prefetch.begin(compiled, args, bridge);
    // Into the inbox right before each call: a compile in between may have put the memory image back.
    const runPython = (): string | ScriptFailure =>
      this.callPython(() =>
        this.runFn(
          compiled.id,
          args,
          limits.maxLogBytes,
          limits.maxResultBytes,
          nextSeed(),
          this.inbox.put(prefetched),
        ),
      );
    try {
      let answer = runPython();
      if (answer === 'missing') {
        // Python no longer holds this script (it should: the host loop drops only what it forgets): compile it again once.
        const again = this.compile(compiled.name, compiled.source);
        if (!again.ok) return { ok: false, error: again.error, logs: [] };
        compiled.id = again.compiled.id;
        this.prepare(compiled);
        this.dirtyOwner = compiled;
        answer = runPython();
      }
      if (typeof answer !== 'string') return { ok: false, error: answer, logs: [] };
      return this.outcome(answer);
    } finally {
      this.prefetch.end(compiled, args);
      this.current = undefined;
      this.settle();
    }
  }

  /** The run's answer as the sandbox gave it, after recording the prefetched reads it reports first. */
  private outcome(answer: string): RunOutcome {
    if (answer.startsWith('p')) {
      const colon = answer.indexOf(':');
      const end = colon + 1 + Number(answer.slice(1, colon));
      this.prefetch.taken(answer.slice(colon + 1, end));
      answer = answer.slice(end);
    }
    if (answer.startsWith('r')) return { ok: true, result: answer.slice(1), logs: [] };
    return JSON.parse(answer) as RunOutcome;
  }

  /** Makes the interpreter fit for a run of `compiled`: restored if need be, and the image up to date. */
  private prepare(compiled: PythonCompiled): void {
    this.clean(compiled);
    if (this.imageStale && this.dirtyOwner === undefined && this.image !== undefined && !this.broken) {
      this.image.retake();
      this.watch?.rebase();
      this.imageStale = false;
    }
  }

  /**
   * Puts the image back unless the interpreter is the image already or was
   * last touched by `next` (a run of the same script: state-watch's rollback
   * after each run is enough there).
   */
  private clean(next: PythonCompiled | undefined): void {
    if (this.dirtyOwner === undefined || (next !== undefined && this.dirtyOwner === next) || this.image === undefined)
      return;
    const started = performance.now();
    try {
      this.image.restore();
      this.watch?.rebase();
      this.dirtyOwner = undefined;
    } catch {
      this.broken = true;
    }
    this.restores++;
    this.restoreMs += performance.now() - started;
  }

  /**
   * Brings Python back to the snapshot: restore what changed, let go of what
   * the restore took out (its finalizers run audited and may change more),
   * repeat until nothing changed. Gives up on the instance if that never ends.
   */
  private settle(): void {
    for (let round = 0; round < SETTLE_ROUNDS && !this.broken; round++) {
      const changed = this.watch === undefined ? (round === 0 ? '*' : '') : this.watch.changed();
      if (changed === '') return;
      this.callPython(() => {
        this.restoreFn(changed);
        return '';
      });
      this.watch?.rebase();
      this.callPython(() => {
        this.releaseFn();
        return '';
      });
    }
    this.broken = true;
  }

  /**
   * Calls into Python; Python catches every exception itself, so anything
   * thrown here is Pyodide failing (a fatal error, a wasm stack overflow) and
   * this instance can no longer be trusted.
   */
  private callPython(fn: () => unknown): string | ScriptFailure {
    if (this.broken)
      return { kind: 'error', type: 'EngineFailed', message: 'the Python engine failed and is restarting' };
    try {
      const answer = fn();
      if (typeof answer === 'string') return answer;
      throw new Error('unexpected answer from Python');
    } catch (err) {
      this.broken = true;
      const what = err instanceof Error ? err.name : 'Error';
      return { kind: 'error', type: 'EngineFailed', message: `the Python engine failed (${what}) and is restarting` };
    }
  }
}
