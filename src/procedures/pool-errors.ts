/**
 * The pool's own errors and labels: why a lost host is counted as lost (for
 * metrics), the marker of a run whose host was lost before the script
 * started, and what a run cancelled or timed out in the queue tells its
 * caller. Must never decide anything (no retries, no kills): pool.ts does.
 */
import { LucienError } from '../errors';
import type { HostLoss } from '../observe/observer';
import type { KillReason } from './failure-codes';

/** Why a host was lost, as metrics label it. */
export const LOSS: Record<KillReason | 'exited' | 'retired', HostLoss> = {
  time: 'timeout',
  memory: 'memory',
  cancel: 'cancelled',
  protocol: 'protocol',
  exited: 'crash',
  retired: 'crash',
};

/** A run's host was lost before it sent a single frame for it: the script never started. */
export class LostBeforeStart extends Error {
  constructor(readonly lost: LucienError) {
    super(lost.message);
  }
}

export function cancelledError(script: string, when: 'queued' | 'running'): LucienError {
  return new LucienError(
    'CANCELLED',
    `script "${script}" was cancelled by its caller while ${when}; nothing was written`,
  );
}

/** A run waited in the queue past its deadline and never started. */
export function queueTimeoutError(script: string, engine: string, waitedMs: number): LucienError {
  return new LucienError(
    'SCRIPT_TIMEOUT',
    `script "${script}" waited ${waitedMs} ms in the queue for a free ${engine} engine and never started before its deadline; nothing was written`,
  );
}
