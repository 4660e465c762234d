/**
 * The runs waiting for a free host of one pool, in order (a run sent again
 * after its host was lost goes first). A waiter leaves the queue when it gets
 * a host, when its deadline passes, or at once when its caller's signal
 * aborts, and then never starts. The first waiter may also be handed a host
 * that is finishing a run, if it may wait behind it (pool-pipeline.ts); no
 * waiter ever passes the first. Must never start, check or kill hosts:
 * pool.ts hands over only hosts it found alive.
 */
import type { HostProcess } from './host-process';
import type { CancelSignal } from './script-engine';
import { cancelledError, queueTimeoutError } from './pool-errors';
import type { PipelineRequest } from './pool-pipeline';

interface Waiter {
  readonly give: (host: HostProcess) => void;
  readonly request: PipelineRequest | undefined;
}

export class HostQueue {
  private readonly waiters: Waiter[] = [];

  /** Runs waiting for a host. */
  get length(): number {
    return this.waiters.length;
  }

  /** Hands `host` to the first run waiting; false when none waits. */
  handOver(host: HostProcess): boolean {
    const waiter = this.waiters.shift();
    if (waiter === undefined) return false;
    waiter.give(host);
    return true;
  }

  /** Hands a host still finishing a run to the first waiter if `may` says it may wait behind it. */
  handOverBehind(host: HostProcess, may: (request: PipelineRequest) => boolean): boolean {
    const waiter = this.waiters[0];
    if (waiter?.request === undefined || !may(waiter.request)) return false;
    this.waiters.shift();
    waiter.give(host);
    return true;
  }

  /**
   * The first host handed over to this caller before `deadline` (`queuedAt`
   * is when it began to wait); at the head of the queue if `first`.
   */
  wait(
    queuedAt: number,
    deadline: number,
    first: boolean,
    signal: CancelSignal | undefined,
    script: string,
    engine: string,
    request?: PipelineRequest,
  ): Promise<HostProcess> {
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      const waiter: Waiter = {
        give: (host) => {
          leave();
          resolve(host);
        },
        request,
      };
      const onAbort = () => {
        leave();
        reject(cancelledError(script, 'queued'));
      };
      const timer = setTimeout(
        () => {
          leave();
          reject(queueTimeoutError(script, engine, Date.now() - queuedAt));
        },
        Math.max(0, deadline - Date.now()),
      );
      signal?.addEventListener('abort', onAbort);
      if (first) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
    });
  }
}
