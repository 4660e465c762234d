/**
 * What one script engine implements inside an engine host process. The host
 * loop (run-host.ts) owns the protocol, the compiled-script cache and the
 * bridge; an engine only compiles source and runs compiled code. Adding a
 * language is one folder under engines/ with an engine.ts and a host.ts.
 */
import type { RunLimits, ScriptFailure } from '../protocol';

/** A synchronous line to the server's bucket bridge. */
export interface HostBridge {
  /**
   * Sends one bridge call (JSON text of a BridgeCall, checked by the server)
   * and blocks for the answer: 'v' + JSON text, 'e' + a message to raise, or
   * 'd' + a message to raise as PermissionDenied. Never
   * throws for a failure the script caused, so an engine can raise it in its
   * own language and realm.
   */
  call(request: string): string;
  /**
   * Optional (a bridge with a read cache has it): what call(request) would
   * answer now, when it can answer without the server, recording nothing;
   * undefined otherwise. An engine may use it to hand a script answers ahead
   * of its calls, and must still pass each request to call() when the script
   * makes it, in order with its other calls.
   */
  peek?(request: string): string | undefined;
  /**
   * Optional, with peek: the script took peek(request)'s answer. Records the
   * read exactly as call(request) would, without building the answer again.
   * Only for a request peek() answered, before anything else crossed.
   */
  taken?(request: string): void;
}

export type RunOutcome =
  | { readonly ok: true; readonly result: string; readonly logs: readonly string[] }
  | { readonly ok: false; readonly error: ScriptFailure; readonly logs: readonly string[] };

export interface HostEngine<Compiled> {
  readonly name: string;
  readonly version: string;
  /**
   * True once the engine can no longer be trusted (e.g. its runtime failed
   * fatally mid-run): the host sends the answer it has, then exits so the
   * server starts a fresh one.
   */
  readonly broken?: boolean;
  /** Compiles without running anything; a failure has kind 'syntax' and a line. */
  compile(name: string, source: string): { ok: true; compiled: Compiled } | { ok: false; error: ScriptFailure };
  /** Runs compiled code with `args` (JSON array text). Must leave no state behind. */
  run(compiled: Compiled, args: string, bridge: HostBridge, limits: RunLimits): RunOutcome;
  /** Lets go of a compiled script the server told the host to forget (optional: most engines need only drop the reference). */
  discard?(compiled: Compiled): void;
}
