/**
 * The JavaScript engine of an engine host: one node:vm context per process,
 * locked down once (lockdown.ts; realm-api.ts builds the per-run API in it),
 * each script compiled once into it as a strict function and run many times
 * (Temporal's reusable VM). Per run, only the run's own state is new, and it
 * is made inside the sandbox realm, and Math.random is seeded afresh.
 *
 * Must never hand the sandbox a host object or let a host error be thrown
 * into it: only strings, numbers and booleans cross, in both directions. Deadlines and
 * memory are enforced from outside (the server kills the process), so nothing
 * here uses vm's `timeout`.
 */
import { randomFillSync } from 'node:crypto';
import vm from 'node:vm';
import type { RunLimits, ScriptFailure } from '../protocol';
import type { HostBridge, HostEngine, RunOutcome } from '../host/host-engine';
import { lockdownRealm } from './lockdown';
import { type SandboxApi, SCRIPT_FILE_PREFIX, sandboxBootstrap } from './realm-api';

/** A script compiled into this host's context (a sandbox-realm function, opaque to the host). */
export interface CompiledScript {
  readonly name: string;
  readonly fn: unknown;
}

/** `result` is declared before the user's first line; the getter lets the host read it after promise jobs ran. */
const PROLOGUE = '"use strict"; let result; __lucien_result(() => result);\n';
const PARAMS = ['buckets', 'args', 'console', '__lucien_result'];

interface RunState {
  readonly bridge: HostBridge;
  readonly limits: RunLimits;
  readonly logs: string[];
  logBytes: number;
  logLimitHit: boolean;
  /** A failure of the channel itself: the host must not serve another run. */
  fatal: unknown;
}

type SandboxOutcome = { ok: true; result: string } | { ok: false; type: string; message: string; line?: number };

export class JavaScriptEngine implements HostEngine<CompiledScript> {
  readonly name = 'javascript';
  readonly version = `node ${process.version}`;
  /** Set when the bridge channel failed mid-run: the host answers, then exits (run-host.ts). */
  broken = false;
  private readonly context: vm.Context;
  private readonly api: SandboxApi;
  /** Evaluating an empty script drains the context's own microtask queue ('afterEvaluate'). */
  private readonly drain = new vm.Script('', { filename: 'lucien:drain' });
  private current: RunState | undefined;

  constructor() {
    // A null-prototype contextified object: with `{}` the global's property
    // lookups would fall through to the host's Object.prototype.
    this.context = vm.createContext(Object.create(null), {
      name: 'lucien-script',
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: 'afterEvaluate',
    });
    // Both run from their source text inside the context; the host only passes
    // the lockdown's line map (a sandbox object) from one to the other.
    const lockdown = inContext<typeof lockdownRealm>(this.context, lockdownRealm, 'lucien:lockdown');
    const bootstrap = inContext<typeof sandboxBootstrap>(this.context, sandboxBootstrap, 'lucien:sandbox');
    this.api = bootstrap(this.hostCall, this.hostLog, lockdown(SCRIPT_FILE_PREFIX));
  }

  compile(name: string, source: string): { ok: true; compiled: CompiledScript } | { ok: false; error: ScriptFailure } {
    try {
      const fn = vm.compileFunction(PROLOGUE + source, PARAMS, {
        parsingContext: this.context,
        filename: SCRIPT_FILE_PREFIX + name,
        lineOffset: -1,
        // Without this, import() rejects with a host-realm TypeError that a script could catch.
        importModuleDynamically: () => {
          throw this.api.makeError('TypeError', 'import() is not available in scripts');
        },
      });
      return { ok: true, compiled: { name, fn } };
    } catch (err) {
      return { ok: false, error: syntaxFailure(err) };
    }
  }

  run(compiled: CompiledScript, args: string, bridge: HostBridge, limits: RunLimits): RunOutcome {
    if (this.broken) {
      // The host loop exits after a broken run; should it not, never touch the channel again.
      return { ok: false, error: { kind: 'error', type: 'HostError', message: 'the engine host is broken' }, logs: [] };
    }
    const state: RunState = { bridge, limits, logs: [], logBytes: 0, logLimitHit: false, fatal: undefined };
    this.current = state;
    let text: unknown;
    try {
      const s = this.seeds;
      if (this.seedAt + 4 > s.length) {
        randomFillSync(s);
        this.seedAt = 0;
      }
      const i = (this.seedAt += 4) - 4;
      this.api.start(compiled.fn, args, s[i] as number, s[i + 1] as number, s[i + 2] as number, s[i + 3] as number);
      this.drain.runInContext(this.context);
      text = this.api.finish();
      // finish() may run a script's toJSON, which may queue more jobs: none may outlive the run.
      this.drain.runInContext(this.context);
    } catch {
      // The sandbox API never throws; if it did, the thrown value is the sandbox's and is not touched.
      text = undefined;
    } finally {
      this.current = undefined;
    }
    const logs = state.logs;
    if (state.fatal !== undefined) {
      this.broken = true;
      return {
        ok: false,
        error: { kind: 'error', type: 'HostError', message: 'the bucket bridge failed during the run' },
        logs,
      };
    }
    if (state.logLimitHit) {
      return { ok: false, error: limitFailure(`logs exceed ${limits.maxLogBytes} bytes`), logs };
    }
    const outcome = parseOutcome(text);
    if (!outcome.ok) {
      const { type, message, line } = outcome;
      return {
        ok: false,
        error: line === undefined ? { kind: 'error', type, message } : { kind: 'error', type, message, line },
        logs,
      };
    }
    if (Buffer.byteLength(outcome.result, 'utf8') > limits.maxResultBytes) {
      return { ok: false, error: limitFailure(`result exceeds ${limits.maxResultBytes} bytes`), logs };
    }
    return { ok: true, result: outcome.result, logs };
  }

  /** Math.random's seed words, four per run, drawn 4 KiB at a time (one syscall per 256 runs); only numbers cross. */
  private readonly seeds = new Uint32Array(1024);
  private seedAt = this.seeds.length;

  /** Called from the sandbox with a string; returns a string; never throws except at the stack's edge. */
  private readonly hostCall = (request: string): string => {
    const run = this.current;
    if (run === undefined || run.fatal !== undefined) return 'eno run in progress';
    if (typeof request !== 'string') return 'emalformed bridge call';
    try {
      return run.bridge.call(request);
    } catch (err) {
      // A throw here may have left half a frame in the pipes: stop serving.
      run.fatal = err;
      return 'ebucket bridge failed';
    }
  };

  private readonly hostLog = (line: string): boolean => {
    const run = this.current;
    if (run === undefined || run.logLimitHit || typeof line !== 'string') return false;
    const bytes = Buffer.byteLength(line, 'utf8') + 1;
    if (run.logBytes + bytes > run.limits.maxLogBytes) {
      run.logLimitHit = true;
      return false;
    }
    run.logBytes += bytes;
    run.logs.push(line);
    return true;
  };
}

/** The function `fn`, compiled from its own source text into `context` (it keeps no closure). */
function inContext<F>(context: vm.Context, fn: F, filename: string): F {
  return new vm.Script(`(${String(fn)})`, { filename }).runInContext(context) as F;
}

function limitFailure(message: string): ScriptFailure {
  return { kind: 'limit', type: 'LimitExceeded', message };
}

/** finish() answers 'r' + result JSON, or 'f' + JSON of the failure; anything else is the engine's fault. */
function parseOutcome(text: unknown): SandboxOutcome {
  if (typeof text === 'string' && text[0] === 'r') return { ok: true, result: text.slice(1) };
  if (typeof text === 'string' && text[0] === 'f') {
    try {
      const parsed = JSON.parse(text.slice(1)) as { type?: unknown; message?: unknown; line?: unknown };
      if (typeof parsed.type === 'string' && typeof parsed.message === 'string') {
        const failure = { ok: false as const, type: parsed.type, message: parsed.message };
        return typeof parsed.line === 'number' ? { ...failure, line: parsed.line } : failure;
      }
    } catch {
      // fall through
    }
  }
  return { ok: false, type: 'HostError', message: 'the script engine failed' };
}

/** vm reports a syntax error in the host realm, with "file:line" as the first stack line. */
function syntaxFailure(err: unknown): ScriptFailure {
  const e = err as { name?: unknown; message?: unknown; stack?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const type = typeof e?.name === 'string' ? e.name : 'SyntaxError';
  const match = typeof e?.stack === 'string' ? /^[^\n]*:(\d+)\n/.exec(e.stack) : null;
  const line = match ? Number(match[1]) : undefined;
  const kind = type === 'SyntaxError' ? 'syntax' : 'error';
  return line !== undefined && line >= 1 ? { kind, type, message, line } : { kind, type, message };
}
