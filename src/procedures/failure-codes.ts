/**
 * What a failed run tells its caller: a script's own failure (as its host
 * reported it) or the loss of its host (as the pool saw it), each turned into
 * the LucienError with the right code. One place, so a host killed from
 * outside is never reported as the script's fault, and a script's fault never
 * as the server's. Must never decide anything else (no retries, no kills).
 */
import type { ScriptFailure } from '../../engines/protocol';
import { LucienError } from '../errors';
import type { HostExitedError } from './host-exit';

/** Why the pool itself killed a host during a run. */
export type KillReason = 'time' | 'memory' | 'cancel' | 'protocol';

/** A failure the script's host reported in its answer. */
export function failureError(name: string, failure: ScriptFailure, logs: readonly string[]): LucienError {
  const where = failure.line !== undefined ? ` (line ${failure.line})` : '';
  const text = `${failure.type}: ${failure.message}${where}`;
  switch (failure.kind) {
    case 'syntax':
      return new LucienError('SCRIPT_SYNTAX', `script "${name}" does not compile: ${text}`, {
        line: failure.line,
        logs,
      });
    case 'memory':
      return new LucienError('SCRIPT_MEMORY', `script "${name}" ran out of memory: ${text}; nothing was written`, {
        line: failure.line,
        logs,
      });
    case 'limit':
      return new LucienError('SCRIPT_LIMIT', `script "${name}" hit a limit: ${text}; nothing was written`, {
        line: failure.line,
        logs,
      });
    default:
      return new LucienError('SCRIPT_ERROR', `script "${name}" raised ${text}; nothing was written`, {
        line: failure.line,
        logs,
        exception: failure.type,
      });
  }
}

/** Signals of a process that crashed (V8 aborts when its heap is full). */
const CRASH_SIGNALS: readonly string[] = ['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGTRAP', 'SIGFPE'];

/** What V8 and Node print when they die of the script's doing (the heap cap, a fatal engine error). */
const CRASH_OUTPUT = /out of memory|FATAL ERROR|Fatal (JavaScript|process)|Aborted|Maximum call stack/i;

/**
 * Whether the host crashed (the script's doing) rather than being killed
 * from outside. A wrapper (unshare) hides how the host below it died, so its
 * last words on stderr decide; a host that vanished silently was killed.
 */
function crashed(err: HostExitedError): boolean {
  if (err.exit.signal !== null && CRASH_SIGNALS.includes(err.exit.signal)) return true;
  return CRASH_OUTPUT.test(err.exit.stderr);
}

/**
 * The host running (or compiling) a script is gone: because the pool killed
 * it (deadline, memory, the caller cancelled, a protocol breach), because the
 * engine crashed (out of memory, a fatal engine error: the script's doing), or
 * because something outside killed it (retryable: the script never finished).
 */
export function lostHostError(
  name: string,
  err: HostExitedError,
  killedFor: KillReason | undefined,
  memoryLimitBytes: number,
  timing: { readonly queuedMs: number; readonly ranMs: number } | 'validate',
): LucienError {
  const when =
    timing === 'validate'
      ? 'while it was compiled'
      : `after ${timing.ranMs} ms running (${timing.queuedMs} ms queued before)`;
  if (killedFor === 'time')
    return new LucienError('SCRIPT_TIMEOUT', `script "${name}" exceeded its time limit ${when}; nothing was written`);
  if (killedFor === 'memory') {
    return new LucienError(
      'SCRIPT_MEMORY',
      `script "${name}" exceeded the memory limit of ${Math.round(memoryLimitBytes / 2 ** 20)} MiB; nothing was written`,
    );
  }
  if (killedFor === 'cancel')
    return new LucienError('CANCELLED', `script "${name}" was cancelled by its caller ${when}; nothing was written`);
  if (err.breach !== undefined) {
    return new LucienError(
      'ENGINE_PROTOCOL',
      `the engine host running script "${name}" broke the protocol (${err.breach}) and was killed; nothing was written`,
    );
  }
  if (crashed(err))
    return new LucienError(
      'SCRIPT_MEMORY',
      `script "${name}" ended its engine host (out of memory or a fatal engine error); nothing was written`,
    );
  const how = err.exit.signal !== null ? ` (${err.exit.signal})` : '';
  return new LucienError(
    'ENGINE_LOST',
    `the engine host running script "${name}" was killed from outside${how} ${when}; nothing was written; retry`,
  );
}
