/**
 * How an engine host's process ends, as the server sees it: the exit record
 * (code, signal, last words on stderr), the error a host's death raises, when
 * an exit counts as final, whether a process still exists, and killing a
 * host's whole process tree. Must never speak the protocol or decide when a
 * host is killed: host-process.ts and the pool do that.
 */
import type { ChildProcess } from 'node:child_process';
import { processTree } from './confinement';

export type HostExit = {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
};

export class HostExitedError extends Error {
  constructor(
    readonly exit: HostExit,
    /** Why the server killed it, when it did so for breaking the protocol. */
    readonly breach?: string,
  ) {
    super(
      breach !== undefined
        ? `engine host broke the protocol (${breach})`
        : `engine host exited (code ${exit.code}, signal ${exit.signal})`,
    );
    this.name = 'HostExitedError';
  }
}

/** How long after a host's exit its stderr may still be arriving. */
const EXIT_GRACE_MS = 500;

/**
 * Calls `final` once the child's exit is final: once stderr is read to its end
 * ('close'), or EXIT_GRACE_MS after 'exit' if 'close' never comes. A host's last
 * words (V8's "out of memory") tell a crash from a kill, and 'exit' can come
 * before them; a grandchild holding the pipes must not hold the verdict up for
 * long, hence the fallback. `final` may be called twice (it ignores the second).
 */
export function onFinalExit(
  child: ChildProcess,
  final: (code: number | null, signal: NodeJS.Signals | null) => void,
): void {
  let fallback: NodeJS.Timeout | undefined;
  const end = (code: number | null, signal: NodeJS.Signals | null): void => {
    clearTimeout(fallback);
    final(code, signal);
  };
  child.on('exit', (code, signal) => {
    fallback = setTimeout(() => end(code, signal), EXIT_GRACE_MS);
  });
  child.on('close', (code: number | null, signal: NodeJS.Signals | null) => end(code, signal));
  child.on('error', () => undefined);
}

/** Whether a process exists (signal 0 checks without sending anything); true when unknown. */
export function exists(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILLs the whole tree under `pid`, deepest first: a wrapper's death alone does not end the host below it. */
export function killTree(pid: number): void {
  for (const p of processTree(pid).reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
