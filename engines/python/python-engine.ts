/**
 * The Python engine inside its host process: loads Pyodide once, installs the
 * sandbox (sandbox-py.ts), then compiles and runs scripts synchronously. Only
 * strings cross between JavaScript and Python here, and the one JavaScript
 * function Python holds is the bridge, which can do nothing but send
 * validated protocol frames. After every call into Python it settles the
 * interpreter back to the snapshot, restoring what state-watch.ts saw change.
 * Must never hand Python any other JavaScript object, and must never be
 * reused after Pyodide reports a fatal error or a state it cannot restore.
 */
import type { RunLimits, ScriptFailure } from '../protocol';
import type { HostBridge, HostEngine, RunOutcome } from '../host/host-engine';
import { bootPyodide } from './boot';
import { SANDBOX_PY } from './sandbox-py';
import { SnapshotPlan, StateWatch, WasmPython } from './state-watch';

/** What Pyodide hands back for a Python callable: callable, destroyable. */
type PyCallable = ((...args: unknown[]) => unknown) & { destroy(): void };

/** A compiled script: its id in the Python-side code cache, plus what recompiles it. */
export interface PythonCompiled {
  readonly id: number;
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

  private constructor(
    readonly version: string,
    private readonly compileFn: PyCallable,
    private readonly runFn: PyCallable,
    private readonly restoreFn: PyCallable,
    private readonly releaseFn: PyCallable,
    private readonly discardFn: PyCallable,
    /** Undefined when watching is unavailable: then every run restores everything. */
    private readonly watch: StateWatch | undefined,
  ) {}

  /**
   * Loads Pyodide from `indexURL` (a local folder: no network, no packages)
   * and installs the sandbox. `globalThis` never reaches Python: `js` is an
   * empty frozen object.
   */
  static async load(indexURL: string): Promise<PythonEngine> {
    const { pyodide, fromSnapshot } = await bootPyodide(indexURL);
    let engine: PythonEngine | undefined;
    // The only JavaScript function Python ever gets: strings in, strings out,
    // no prototype (so no `.constructor` chain to Function).
    const bridge = (text: unknown): string => {
      const bridgeNow = engine?.current;
      if (bridgeNow === undefined) return 'ebridge: no run in progress';
      if (typeof text !== 'string') return 'ebridge: expected JSON text';
      return bridgeNow.call(text);
    };
    Object.setPrototypeOf(bridge, null);
    Object.freeze(bridge);

    const namespace = pyodide.toPy({}) as unknown as { get(k: string): PyCallable; destroy(): void };
    pyodide.runPython(SANDBOX_PY, { globals: namespace as never });
    const make = namespace.get('_lucien_make');
    const parts = make(bridge, SCRIPT_FILE) as { get(i: number): PyCallable; destroy(): void };
    const compileFn = parts.get(0);
    const runFn = parts.get(1);
    const snapshot = parts.get(2);
    const restoreFn = parts.get(3);
    const releaseFn = parts.get(4);
    const discardFn = parts.get(5);
    parts.destroy();
    make.destroy();
    // Everything Python will ever need is loaded; freeze the state runs return to.
    const plan = JSON.parse(snapshot(namespace) as string) as SnapshotPlan;
    snapshot.destroy();
    const wasm = (pyodide as unknown as { _module: WasmPython })._module;
    const watch = StateWatch.install(wasm, plan);
    engine = new PythonEngine(`pyodide ${pyodide.version}${fromSnapshot ? ' (from memory snapshot)' : ''}`, compileFn, runFn, restoreFn, releaseFn, discardFn, watch);
    return engine;
  }

  compile(name: string, source: string): { ok: true; compiled: PythonCompiled } | { ok: false; error: ScriptFailure } {
    const answer = this.callPython(() => this.compileFn(name, source));
    this.settle();
    if (typeof answer !== 'string') return { ok: false, error: answer };
    const parsed = JSON.parse(answer) as { ok: true; id: number } | { ok: false; error: ScriptFailure };
    return parsed.ok ? { ok: true, compiled: { id: parsed.id, name, source } } : parsed;
  }

  /** Forgets a compiled script's code object (the host loop says when: the server owns the cache). */
  discard(compiled: PythonCompiled): void {
    this.callPython(() => this.discardFn(compiled.id));
    this.settle();
  }

  run(compiled: PythonCompiled, args: string, bridge: HostBridge, limits: RunLimits): RunOutcome {
    this.current = bridge;
    try {
      let answer = this.callPython(() => this.runFn(compiled.id, args, limits.maxLogBytes, limits.maxResultBytes));
      if (answer === 'missing') {
        // Python no longer holds this script (it should: the host loop drops only what it forgets): compile it again once.
        const again = this.compile(compiled.name, compiled.source);
        if (!again.ok) return { ok: false, error: again.error, logs: [] };
        answer = this.callPython(() => this.runFn(again.compiled.id, args, limits.maxLogBytes, limits.maxResultBytes));
      }
      if (typeof answer !== 'string') return { ok: false, error: answer, logs: [] };
      if (answer.startsWith('r')) return { ok: true, result: answer.slice(1), logs: [] };
      return JSON.parse(answer) as RunOutcome;
    } finally {
      this.current = undefined;
      this.settle();
    }
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
    if (this.broken) return { kind: 'error', type: 'EngineFailed', message: 'the Python engine failed and is restarting' };
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
