/**
 * The server's view of a script engine: validate (compile) a source, run a
 * compiled script against a bridge, warm up, close. The registry maps a
 * script's `engine` field to one of these. Implementations live behind a
 * pool of engine host processes (pool.ts); nothing here knows a language.
 */
import type { BridgeReply, CacheSync, RunLimits } from '../../engines/protocol';

/**
 * A caller's cancellation, as a run hears of it: the part of an AbortSignal
 * the run path uses (an AbortSignal fits). The gRPC edge answers it straight
 * from the call (src/server/adapt.ts), without an AbortController per call.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  /** `listener` is called once, when the caller goes; not if it already has. */
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface EngineRunRequest {
  readonly name: string;
  /** Changes whenever the source does (name@revision). */
  readonly key: string;
  readonly source: string;
  /** JSON array text. */
  readonly args: string;
  readonly timeoutMs: number;
  /** When the run must be over (ms since the epoch); time spent queued for a host counts. Default: now + timeoutMs. */
  readonly deadline?: number;
  /** The deadline is the caller's own (its gRPC deadline), not the run's time limit: reaching it is a cancel. */
  readonly callersDeadline?: boolean;
  /** Aborts when the caller is gone (cancelled, or its gRPC deadline passed): a queued run never starts, a running one is stopped. */
  readonly signal?: CancelSignal;
  readonly limits: RunLimits;
  /** A re-run after a conflict: served before first attempts waiting for a host. */
  readonly retry?: boolean;
  /** Present when the host may answer reads from its read cache. */
  readonly cache?: RunCache;
  /**
   * The run is expected to write nothing (its script's last run here wrote
   * nothing, or it is a dry run): it may be sent to a host behind a short run
   * still going (pool-pipeline.ts).
   */
  readonly pipeline?: boolean;
}

/** A run's side of the engine hosts' read caches (invalidation-feed.ts, run-transaction.ts). */
export interface RunCache {
  /**
   * Called once a host is held, right before the run goes to it: opens the
   * run's snapshot and says what that host's cache must forget to be at it.
   * Nothing may await between this and sending the run.
   */
  sync(host: object): Promise<CacheSync>;
  /** The reads the host answered from its cache, from its done message (unchecked; throws if malformed). */
  record(cached: unknown): void;
}

export interface EngineRunResult {
  /** JSON text of the script's result. */
  readonly result: string;
  readonly logs: readonly string[];
}

/**
 * Answers a running script's bridge call (its JSON text, unchecked): JSON
 * text, or a message to raise in the script; synchronously when it can.
 * Throws (or rejects) only when the run must end.
 */
export type BridgeHandler = (request: string) => BridgeReply | Promise<BridgeReply>;

export interface PreloadScript {
  readonly name: string;
  readonly key: string;
  readonly source: string;
}

/** How many host processes an engine has in each state, and their pids (for metrics). */
export interface HostStates {
  readonly starting: number;
  readonly idle: number;
  readonly busy: number;
  readonly pids: readonly number[];
}

export interface ScriptEngine {
  readonly name: string;
  /** Its host processes now, if it has any (metrics read this when scraped). */
  hostStates?(): HostStates;
  /** Compiles without running; throws LucienError SCRIPT_SYNTAX naming the line. */
  validate(name: string, source: string): Promise<void>;
  /** Runs; throws LucienError SCRIPT_ERROR / SCRIPT_TIMEOUT / SCRIPT_MEMORY / SCRIPT_LIMIT (with the logs), CANCELLED, ENGINE_LOST, ENGINE_PROTOCOL. */
  run(request: EngineRunRequest, bridge: BridgeHandler): Promise<EngineRunResult>;
  /**
   * Resolves once the engine can run a script without a cold start (one host
   * ready; before the server reports SERVING). The rest of the pool may still
   * be starting.
   */
  warm(): Promise<void>;
  /** Compiles scripts into every idle host ahead of their first run. */
  preload(scripts: readonly PreloadScript[]): Promise<void>;
  close(): Promise<void>;
}

export class EngineRegistry {
  private readonly engines = new Map<string, ScriptEngine>();

  constructor(engines: readonly ScriptEngine[]) {
    for (const engine of engines) this.engines.set(engine.name, engine);
  }

  get names(): string[] {
    return [...this.engines.keys()];
  }

  get(name: string): ScriptEngine | undefined {
    return this.engines.get(name);
  }

  /** Starts every engine, then compiles the given scripts into their engines' hosts. */
  async warm(scripts: readonly (PreloadScript & { readonly engine: string })[] = []): Promise<void> {
    await Promise.all([...this.engines.values()].map((e) => e.warm()));
    await Promise.all([...this.engines.values()].map((e) => e.preload(scripts.filter((s) => s.engine === e.name))));
  }

  async close(): Promise<void> {
    await Promise.all([...this.engines.values()].map((e) => e.close()));
  }
}
