/**
 * When the pool may send a run to a host that is still running another
 * (pipelining): the host reads it the moment it is done, with no wake-up and
 * its caches warm, instead of sleeping until the pool hands it the next run.
 * Under load that wake-up was the largest single cost of a run.
 *
 * At most MAX_BEHIND runs wait behind the one a host runs (one is not
 * enough under load: the host finishes it before the server has sent the
 * next). Only quick runs: the one running has not run longer than
 * PIPELINE_BEHIND_MS and its script's recent runs took less, and so did the
 * waiting run's own script (so everything a run waits behind is quick, and a
 * run never waits behind a slow one while another host frees up). Only runs
 * the runner expects to write nothing (a pipelined run takes its snapshot
 * before the runs ahead of it commit: a writer would conflict more), whose
 * compiled script the host holds, once every run given the host was sent. Keeps each host's load (runs given it and
 * not given back) and each script's recent duration. Must never send to,
 * kill or hand over a host: pool.ts does.
 */
import type { HostProcess } from './host-process';
import type { EngineRunRequest } from './script-engine';

/**
 * By default a run may wait behind another only if that one's script is this
 * quick (and it has not run longer). Measured by the server, from when the
 * host starts a run to when its answer is read, so it includes the server's
 * own delay under load (a few ms at 16 clients), not only the script's time.
 */
export const PIPELINE_BEHIND_MS = 10;
/** Runs that may wait in a host's pipe behind the one it runs. */
export const MAX_BEHIND = 2;
/** Scripts whose durations are kept; beyond it the record starts afresh. */
const MAX_SCRIPTS = 4096;

/** What the pool knows of a run before it runs: whether it may wait behind another. */
export type PipelineRequest = Pick<EngineRunRequest, 'key' | 'pipeline'>;

export class Pipelining {
  /** `behindMs`: how quick the run ahead must be (0: never pipeline). */
  constructor(private readonly behindMs: number = PIPELINE_BEHIND_MS) {}

  private readonly load = new Map<HostProcess, number>();
  /** The run each host is on now: its script and since when. */
  private readonly running = new Map<HostProcess, { readonly key: string; readonly since: number }>();
  /** Each script's recent duration on a host, ms (moving average). */
  private readonly durations = new Map<string, number>();

  /** A run was given `host`. */
  taken(host: HostProcess): void {
    this.load.set(host, (this.load.get(host) ?? 0) + 1);
  }

  /** A run gave `host` back; answers how many runs it still has. */
  given(host: HostProcess): number {
    const left = Math.max(0, (this.load.get(host) ?? 0) - 1);
    if (left === 0) this.load.delete(host);
    else this.load.set(host, left);
    return left;
  }

  /** `host` starts a run of `key`; answers its start, for finished(). */
  started(host: HostProcess, key: string): number {
    const since = performance.now();
    this.running.set(host, { key, since });
    return since;
  }

  /** A run of `key` that started at `since` is over (whatever its outcome). */
  finished(host: HostProcess, key: string, since: number): void {
    const ms = performance.now() - since;
    const before = this.durations.get(key);
    if (before === undefined && this.durations.size >= MAX_SCRIPTS) this.durations.clear();
    this.durations.set(key, before === undefined ? ms : 0.8 * before + 0.2 * ms);
    if (this.running.get(host)?.since === since) this.running.delete(host);
  }

  /** The pool forgets `host`. */
  forget(host: HostProcess): void {
    this.load.delete(host);
    this.running.delete(host);
  }

  /** Whether `request` may be sent to `host` now, behind the runs it has (all sent, all quick). */
  canQueueBehind(host: HostProcess, request: PipelineRequest): boolean {
    if (request.pipeline !== true || !this.quick(request.key)) return false;
    const load = this.load.get(host) ?? 0;
    if (load < 1 || load > MAX_BEHIND || host.runsInFlight !== load) return false;
    if (!host.usable || !host.holds(request.key)) return false;
    const current = this.running.get(host);
    return current !== undefined && performance.now() - current.since <= this.behindMs && this.quick(current.key);
  }

  private quick(key: string): boolean {
    if (this.behindMs <= 0) return false;
    const usual = this.durations.get(key);
    return usual !== undefined && usual <= this.behindMs;
  }
}
