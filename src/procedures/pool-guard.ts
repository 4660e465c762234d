/**
 * The limits a pool enforces on a host from outside, by killing it: a
 * compile's time, and a run's deadline, memory cap and its caller's
 * cancellation (each kill remembers why, so the run's error says so). Must
 * never report, replace or hand on hosts: pool.ts does that.
 */
import type { CompiledMessage } from '../../engines/protocol';
import { LucienError } from '../errors';
import type { EngineRunRequest } from './script-engine';
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

/** Kills `host` when the run's deadline passes, its memory passes the limit or the caller cancels. */
export function guardRun(
  host: HostProcess,
  deadline: number,
  request: Pick<EngineRunRequest, 'callersDeadline' | 'signal'>,
  memoryLimitBytes: number,
): RunGuard {
  let killedFor: KillReason | undefined;
  const kill = (reason: KillReason) => {
    killedFor ??= reason;
    host.kill();
  };
  // The caller's own deadline passing is the caller going away, as a cancel is.
  const timer = setTimeout(
    () => kill(request.callersDeadline === true ? 'cancel' : 'time'),
    Math.max(0, deadline - Date.now()),
  );
  const memoryTimer = setInterval(() => {
    void treeResidentBytes(host.pid).then((rss) => {
      if (rss > memoryLimitBytes) kill('memory');
    });
  }, MEMORY_POLL_MS);
  const onAbort = () => kill('cancel');
  request.signal?.addEventListener('abort', onAbort);
  // Aborted between getting the host and listening: stop now (the kill fails the run).
  if (request.signal?.aborted === true) kill('cancel');
  return {
    get killedFor() {
      return killedFor;
    },
    stop() {
      clearTimeout(timer);
      clearInterval(memoryTimer);
      request.signal?.removeEventListener('abort', onAbort);
    },
  };
}
