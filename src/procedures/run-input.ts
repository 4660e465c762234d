/**
 * What the script runner takes and gives: its limits, a Run's and an Eval's
 * input, what a run executes, what it answers; the check of a run's args
 * (size, nesting, a JSON array) before anything runs, and of its result
 * (size, nesting) before anything commits, and how a refusal of the
 * caller's rights surfaces. Types and those checks only: must
 * never load, run or commit anything (runner.ts does).
 */
import { isLucienError, LucienError } from '../errors';
import { DEFAULT_MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth';
import type { BridgeLimits, BucketAccess, RunWrite } from './run-transaction';
import type { CancelSignal } from './script-engine';

export interface RunnerLimits extends BridgeLimits {
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly maxResultBytes: number;
  readonly maxLogBytes: number;
  readonly maxArgsBytes: number;
  /** Deepest nesting of args and results (LUCIEN_MAX_JSON_DEPTH; default 64). Written values: StoreLimits. */
  readonly maxJsonDepth?: number;
  /** Attempts before a conflicting run fails with ABORTED. */
  readonly maxAttempts: number;
  /** Attempts made optimistically before a run takes the commit gate exclusively. */
  readonly optimisticAttempts: number;
  /** Bytes of each engine host's read cache; 0 turns the caches off. */
  readonly hostCacheBytes?: number;
  /** Largest source Eval accepts (as PutScript: LUCIEN_MAX_SCRIPT_BYTES). */
  readonly maxScriptBytes: number;
}

/** Who asked for a run, and how long they wait: both Run and Eval carry it. */
export interface CallerContext {
  /** Aborts when the caller is gone: a queued run never starts, a running one is stopped, nothing commits. */
  readonly signal?: CancelSignal;
  /** The caller's own deadline (ms since the epoch), e.g. its gRPC deadline; the run ends by then too. */
  readonly callerDeadline?: number;
  /** The caller's rights over buckets (invoker rights); undefined: everything. */
  readonly access?: BucketAccess;
}

export interface RunInput extends CallerContext {
  readonly name: string;
  /** JSON array text; '' means []. */
  readonly args: string;
  readonly dryRun: boolean;
  /** 0 means the server default. */
  readonly timeoutMs: number;
  /** True once the caller went away (the run is then reported as cancelled if it fails). */
  readonly cancelled?: () => boolean;
}

/** Eval: source run without registering it (a dry run unless `commit`). */
export interface EvalInput extends CallerContext {
  readonly engine: string;
  readonly source: string;
  /** JSON array text; '' means []. */
  readonly args: string;
  readonly commit: boolean;
  /** 0 means the server default. */
  readonly timeoutMs: number;
}

/** What a run executes: a registered script, or Eval's source. */
export interface Runnable {
  readonly name: string;
  /** Compiled-script cache key: changes whenever the source does. */
  readonly key: string;
  readonly engine: string;
  readonly source: string;
}

export interface RunOutput {
  readonly result: string;
  readonly logs: readonly string[];
  readonly revision: number;
  readonly writes: readonly RunWrite[];
  readonly attempts: number;
}

/** A run's args as the script gets them ('' becomes '[]'); throws INVALID_ARGUMENT unless a JSON array within the limits. */
export function checkArgs(text: string, limits: Pick<RunnerLimits, 'maxArgsBytes' | 'maxJsonDepth'>): string {
  if (text === '') return '[]';
  if (Buffer.byteLength(text) > limits.maxArgsBytes)
    throw new LucienError('INVALID_ARGUMENT', `args exceed ${limits.maxArgsBytes} bytes`);
  const depth = limits.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (nestsDeeperThan(text, depth))
    throw new LucienError('INVALID_ARGUMENT', `args nest deeper than ${depth} levels (LUCIEN_MAX_JSON_DEPTH)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LucienError('INVALID_ARGUMENT', `args is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new LucienError('INVALID_ARGUMENT', 'args must be a JSON array, e.g. ["post_1"]');
  return text;
}

/** Refuses a script's result that is too large or nests too deep; the run then writes nothing. */
export function checkResult(
  result: string,
  logs: readonly string[],
  limits: Pick<RunnerLimits, 'maxResultBytes' | 'maxJsonDepth'>,
): void {
  if (Buffer.byteLength(result) > limits.maxResultBytes)
    throw new LucienError('SCRIPT_LIMIT', `script result exceeds ${limits.maxResultBytes} bytes; nothing was written`, {
      logs,
    });
  const depth = limits.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (nestsDeeperThan(result, depth))
    throw new LucienError(
      'SCRIPT_LIMIT',
      `script result nests deeper than ${depth} levels (LUCIEN_MAX_JSON_DEPTH); nothing was written`,
      { logs },
    );
}

/**
 * A refusal of the caller's rights that the script did not catch is the
 * caller's PERMISSION_DENIED (when the transaction refused one); any other
 * failure is returned as it is.
 */
export function asCallersRefusal(err: unknown): unknown {
  if (!isLucienError(err) || err.code !== 'SCRIPT_ERROR' || err.details.exception !== 'PermissionDenied') return err;
  return new LucienError(
    'PERMISSION_DENIED',
    `${err.message.replace(/; nothing was written$/, '')}: the caller may not do this; nothing was written`,
    err.details,
  );
}
