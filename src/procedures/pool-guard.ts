/**
 * The limits a pool enforces on a host from outside, by killing it: a
 * compile's time, and a run's deadline, memory cap and its caller's
 * cancellation (each kill remembers why, so the run's error says so). Must
 * never report, replace or hand on hosts: pool.ts does that.
 */
import type { CompiledMessage } from '../../engines/protocol';
import { LucienError } from '../errors';
import type { CancelSignal, EngineRunRequest } from './script-engine';
import type { HostProcess } from './host-process';
import { treeResidentBytes } from './confinement';
import type { KillReason } from './failure-codes';

const MEMORY_POLL_MS = 50;

/**
 * Compiles on `host` (keeping it under `key` if given); a compile past
 * `timeoutMs` kills the host (`onKill` is told just before).
 */
export async function compileWithin(
  host: HostProcess,
  name: string,
  source: string,
  key: string | undefined,
  timeoutMs: number,
  onKill: () => void,
): Promise<CompiledMessage> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      host.compile(name, source, key),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onKill();
          host.kill();
          reject(new LucienError('SCRIPT_TIMEOUT', `compiling script "${name}" took longer than ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The watch over one run's host. */
export interface RunGuard {
  /** Why the host was killed from outside, if it was (the first reason wins). */
  readonly killedFor: KillReason | undefined;
  /** Stops watching: the run is over. */
  stop(): void;
}

interface Watched {
  readonly host: HostProcess;
  /** When the watch began (Date.now()): a run's memory is first read MEMORY_POLL_MS after it. */
  readonly since: number;
  readonly deadline: number;
  /** Reaching the deadline is the caller going away (its own gRPC deadline), as a cancel is. */
  readonly callersDeadline: boolean;
  killedFor: KillReason | undefined;
}

/**
 * The guard of one watched run. A class, not an object literal with a getter:
 * with the literals here and in pool-run.ts, each run's objects survived the
 * young-generation collections (at c=1 ~1.2 MB promoted per scavenge in
 * process, 0 with classes; `node --trace-gc-nvp`).
 */
class WatchedRunGuard implements RunGuard {
  constructor(
    private readonly runs: Set<Watched>,
    private readonly run: Watched,
    private readonly signal: CancelSignal | undefined,
    private readonly onAbort: () => void,
  ) {}

  get killedFor(): KillReason | undefined {
    return this.run.killedFor;
  }

  stop(): void {
    this.runs.delete(this.run);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Watches the runs of one pool: kills a run's host when its deadline passes,
 * its memory passes the limit or its caller cancels. One timer for every
 * deadline (armed for the earliest) and one memory poll for every run, both
 * left armed between runs and disarmed by the first tick that finds nothing
 * to watch: a run adds and removes itself from a set, never a timer of its own.
 */
export class RunWatch {
  private readonly runs = new Set<Watched>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** When the deadline timer fires (Infinity when unarmed). */
  private deadlineAt = Number.POSITIVE_INFINITY;
  private memoryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly memoryLimitBytes: number) {}

  /** Starts watching a run on `host` until stop(). */
  guard(host: HostProcess, deadline: number, request: Pick<EngineRunRequest, 'callersDeadline' | 'signal'>): RunGuard {
    const run: Watched = {
      host,
      since: Date.now(),
      deadline,
      callersDeadline: request.callersDeadline === true,
      killedFor: undefined,
    };
    this.runs.add(run);
    if (deadline < this.deadlineAt) this.armDeadline(deadline);
    // Unreferenced: left armed between runs, they must not keep a closing process alive (a run's pipes do).
    this.memoryTimer ??= setInterval(() => this.pollMemory(), MEMORY_POLL_MS).unref();
    const onAbort = () => this.kill(run, 'cancel');
    request.signal?.addEventListener('abort', onAbort);
    // Aborted between getting the host and listening: stop now (the kill fails the run).
    if (request.signal?.aborted === true) this.kill(run, 'cancel');
    return new WatchedRunGuard(this.runs, run, request.signal, onAbort);
  }

  private kill(run: Watched, reason: KillReason): void {
    run.killedFor ??= reason;
    run.host.kill();
  }

  private armDeadline(at: number): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.max(0, at - Date.now())).unref();
  }

  /** Kills every run past its deadline; re-arms for the earliest left, or disarms. */
  private onDeadline(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const run of this.runs) {
      if (run.deadline <= now) this.kill(run, run.callersDeadline ? 'cancel' : 'time');
      else next = Math.min(next, run.deadline);
    }
    if (next !== Number.POSITIVE_INFINITY) this.armDeadline(next);
  }

  private pollMemory(): void {
    if (this.runs.size === 0) {
      clearInterval(this.memoryTimer);
      this.memoryTimer = undefined;
      return;
    }
    const now = Date.now();
    for (const run of this.runs) {
      // A run younger than one poll is not read yet (most runs end well before): reading a host's
      // memory walks its process tree in /proc.
      if (now - run.since < MEMORY_POLL_MS) continue;
      void treeResidentBytes(run.host.pid).then((rss) => {
        if (rss > this.memoryLimitBytes && this.runs.has(run)) this.kill(run, 'memory');
      });
    }
  }

  /** Stops every timer (the pool is closing). */
  close(): void {
    clearTimeout(this.deadlineTimer);
    clearInterval(this.memoryTimer);
    this.deadlineTimer = this.memoryTimer = undefined;
    this.deadlineAt = Number.POSITIVE_INFINITY;
  }
}
