/**
 * The one seam between the server and everything that watches it: the gRPC
 * adapter, the script runner and the engine pool report events here, and
 * only here. Implementations (observatory.ts) turn them into statistics, the
 * slow-run log and Prometheus metrics. This file imports nothing, so any
 * layer may depend on it; it must never grow a dependency on prom-client.
 */

/** How a script run ended (the `outcome` label of lucien_script_runs_total). */
export type RunOutcome = 'ok' | 'error' | 'timeout' | 'memory' | 'limit' | 'conflict' | 'cancelled';
export const RUN_OUTCOMES: readonly RunOutcome[] = [
  'ok',
  'error',
  'timeout',
  'memory',
  'limit',
  'conflict',
  'cancelled',
];

/** Bucket calls a script can make; anything else a host sends counts as `other`. */
export type BridgeOp = 'get' | 'getMany' | 'put' | 'delete' | 'list' | 'other';
export const BRIDGE_OPS: readonly BridgeOp[] = ['get', 'getMany', 'put', 'delete', 'list', 'other'];

export type BridgeCounts = Record<BridgeOp, number>;

/** One finished script run (every attempt of it), as the runner saw it. */
export interface RunReport {
  readonly script: string;
  readonly engine: string;
  readonly outcome: RunOutcome;
  readonly durationMs: number;
  readonly attempts: number;
  /** Bucket calls over every attempt, by operation. */
  readonly bridgeCalls: Readonly<BridgeCounts>;
  readonly dryRun: boolean;
  /** JSON text of the arguments, as sent. */
  readonly args: string;
  readonly logs: readonly string[];
  /** Set when the run failed: the Lucien error code, its message and the script line if known. */
  readonly error?: { readonly code: string; readonly message: string; readonly line?: number };
}

/** Why an engine host was lost (and replaced): the `reason` label of lucien_engine_host_restarts_total. */
export type HostLoss = 'timeout' | 'memory' | 'crash' | 'compile_timeout' | 'cancelled' | 'protocol';

/** Records one finished call of a method: its status name ('OK', 'NOT_FOUND', …) and seconds taken. */
export type RpcRecorder = (code: string, seconds: number) => void;

export interface Observer {
  /** The recorder for one rpc method; asked once per handler, when the server is built. */
  rpc(method: string): RpcRecorder;
  /** A server-streaming call (Watch) began or ended. */
  streamOpened(method: string): void;
  streamClosed(method: string): void;
  run(report: RunReport): void;
  hostLost(engine: string, reason: HostLoss): void;
}

const ignore = (): void => undefined;

/** Observes nothing: the default wherever no observer is given. */
export const NO_OBSERVER: Observer = {
  rpc: () => ignore,
  streamOpened: ignore,
  streamClosed: ignore,
  run: ignore,
  hostLost: ignore,
};

/** The op of a bridge call from its JSON text, without parsing it (both engines write `{"op":"…"` first). */
export function bridgeOp(request: string): BridgeOp {
  if (!request.startsWith('{"op":"')) return 'other';
  const end = request.indexOf('"', 7);
  switch (request.slice(7, end)) {
    case 'get':
      return 'get';
    case 'getMany':
      return 'getMany';
    case 'put':
      return 'put';
    case 'delete':
      return 'delete';
    case 'list':
      return 'list';
    default:
      return 'other';
  }
}

export function emptyBridgeCounts(): BridgeCounts {
  return { get: 0, getMany: 0, put: 0, delete: 0, list: 0, other: 0 };
}

/** The outcome a failed run's error code stands for. */
export function outcomeOf(code: string | undefined, cancelled: boolean): RunOutcome {
  if (cancelled) return 'cancelled';
  switch (code) {
    case 'SCRIPT_TIMEOUT':
      return 'timeout';
    case 'SCRIPT_MEMORY':
      return 'memory';
    case 'SCRIPT_LIMIT':
      return 'limit';
    case 'CONFLICT':
      return 'conflict';
    default:
      return 'error';
  }
}
