/**
 * One run in a pool: a host taken (pool.ts), its limits watched from when the
 * host starts the run (pool-guard.ts; later than it is sent if it waits
 * behind another run), the host's read cache brought to the run's snapshot,
 * the run sent, and its outcome turned into the result or the right error,
 * including when the host is lost during it (and whether the script never
 * started, so the run may go to another host); then the host given back.
 * Must never pick, kill for a limit or replace hosts itself: pool.ts and
 * pool-guard.ts do.
 */
import type { CacheSync, DoneMessage } from '../../engines/protocol';
import type { Logger } from '../log';
import type { CancelSignal } from './script-engine';
import type { RunGuard, RunWatch } from './pool-guard';
import type { PipelineRequest, Pipelining } from './pool-pipeline';
import type { BridgeHandler, EngineRunRequest, EngineRunResult } from './script-engine';
import type { HostProcess, RunProgress } from './host-process';
import { HostExitedError } from './host-exit';
import { failureError, type KillReason, lostHostError } from './failure-codes';
import { LostBeforeStart } from './pool-errors';
/** Why the pool killed the host during this run, if it did (pool-guard.ts); read when the run fails. */
export interface KilledFor {
  readonly killedFor: KillReason | undefined;
}

/** The run's guard once the host starts the run; a class, not a literal with a getter (see pool-guard.ts). */
class GuardSlot implements KilledFor {
  guard: RunGuard | undefined;

  get killedFor(): KillReason | undefined {
    return this.guard?.killedFor;
  }
}

/** What one run needs of its pool. */
export interface PoolSide {
  readonly engine: string;
  readonly log: Logger;
  readonly memoryLimitBytes: number;
  readonly watch: RunWatch;
  readonly pipelining: Pipelining;
  /** An idle host, one that may take the run behind its own (`request` given), or the first one freed. */
  acquire(
    deadline: number,
    first: boolean,
    signal: CancelSignal | undefined,
    script: string,
    request?: PipelineRequest,
  ): Promise<HostProcess>;
  release(host: HostProcess, killedFor?: KillReason): void;
  /** Offers `host`, which now holds a run in its pipe, to the first waiting run. */
  offerBehind(host: HostProcess): void;
}

/** Takes a host of the pool, runs `request` on it and gives it back. */
export async function runInPool(
  pool: PoolSide,
  request: EngineRunRequest,
  bridge: BridgeHandler,
  deadline: number,
  again: boolean,
): Promise<EngineRunResult> {
  const queuedAt = Date.now();
  // A run sent again after its host was lost never waits behind another run.
  const host = await pool.acquire(
    deadline,
    again || request.retry === true,
    request.signal,
    request.name,
    again ? undefined : request,
  );
  const startedAt = Date.now();
  const killed = new GuardSlot();
  let since: number | undefined;
  const onStart = () => {
    // The deadline, the memory cap and the caller's cancellation kill the host (which fails the run below),
    // watched from when the host starts the run: a kill before would end the run ahead of it.
    killed.guard ??= pool.watch.guard(host, deadline, request);
    since ??= pool.pipelining.started(host, request.key);
  };
  try {
    return await runOnHost(host, request, bridge, killed, {
      engine: pool.engine,
      log: pool.log,
      memoryLimitBytes: pool.memoryLimitBytes,
      queuedAt,
      startedAt,
      again,
      onStart,
      onSent: () => pool.offerBehind(host),
    });
  } finally {
    killed.guard?.stop();
    if (since !== undefined) pool.pipelining.finished(host, request.key, since);
    pool.release(host, killed.killedFor);
  }
}

/** What a run on a host is told by its pool. */
export interface RunContext {
  readonly engine: string;
  readonly log: Logger;
  readonly memoryLimitBytes: number;
  /** When the run began to wait for a host, and when it got one. */
  readonly queuedAt: number;
  readonly startedAt: number;
  /** The run was already sent again after its first host was lost before it started. */
  readonly again: boolean;
  /** Told when the host starts the run (at once, unless it was sent behind another: pipelining). */
  readonly onStart: () => void;
  /** Told once the run is in the host's pipe (another may then be sent behind it). */
  readonly onSent: () => void;
}

/** Runs `request` on `host` (watched by `guard`); rejects with the run's error. */
async function runOnHost(
  host: HostProcess,
  request: EngineRunRequest,
  bridge: BridgeHandler,
  guard: KilledFor,
  context: RunContext,
): Promise<EngineRunResult> {
  let done: DoneMessage;
  const progress: RunProgress = { frames: 0, onStart: context.onStart };
  /** The store failed while the run was prepared (its snapshot): the host did nothing and goes back to the pool. */
  let unsent: unknown;
  try {
    // The host's read cache is brought to the run's snapshot on the run message itself; nothing awaits after this.
    let cache: CacheSync | undefined;
    try {
      cache = request.cache === undefined ? undefined : await request.cache.sync(host);
    } catch (err) {
      unsent = err;
      throw err;
    }
    // A host that lacks the compiled script answers `missing` and HostProcess sends the run again with its
    // source; the cache sync it carries again is the same revision and keys, a no-op (or, if another run
    // was sent behind it meanwhile, none: HostProcess.run).
    // host.run() sends before it first waits: once it returns, the run is in the host's pipe.
    const answer = host.run(
      {
        key: request.key,
        name: request.name,
        source: request.source,
        args: request.args,
        limits: request.limits,
        cache,
      },
      bridge,
      progress,
    );
    context.onSent();
    done = await answer;
    if (done.ok) request.cache?.record(done.cached);
  } catch (err) {
    // The store failed while the run was prepared: the host did nothing and goes back to the pool.
    if (unsent !== undefined && err === unsent && guard.killedFor === undefined) throw err;
    if (!(err instanceof HostExitedError)) throw err;
    host.kill();
    const { queuedAt, startedAt } = context;
    const timing = { queuedMs: startedAt - queuedAt, ranMs: Date.now() - startedAt };
    if (guard.killedFor === undefined) {
      context.log.warn('engine host died during a run', {
        engine: context.engine,
        script: request.name,
        exit: err.exit.code,
        signal: err.exit.signal,
        breach: err.breach,
        stderr: err.exit.stderr.slice(-500),
      });
    }
    const lost = lostHostError(request.name, err, guard.killedFor, context.memoryLimitBytes, timing);
    if (lost.code === 'ENGINE_LOST' && progress.frames === 0 && !context.again) throw new LostBeforeStart(lost);
    throw lost;
  }
  if (!done.ok) throw failureError(request.name, done.error, done.logs);
  return { result: done.result, logs: done.logs };
}
