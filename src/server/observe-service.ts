/**
 * Handlers of the observability rpcs (GetScriptStats, GetSlowRuns): turn the
 * statistics book and the slow-run log into messages. Read-only; they never
 * touch the store or the engines.
 */
import type { GetScriptStatsRequest__Output } from '../generated/lucien/v1/GetScriptStatsRequest';
import type { GetScriptStatsResponse } from '../generated/lucien/v1/GetScriptStatsResponse';
import type { GetSlowRunsRequest__Output } from '../generated/lucien/v1/GetSlowRunsRequest';
import type { GetSlowRunsResponse } from '../generated/lucien/v1/GetSlowRunsResponse';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import type { ScriptStats } from '../generated/lucien/v1/ScriptStats';
import type { ScriptStatsBook, ScriptStatsView } from '../observe/script-stats';
import type { SlowRunLog } from '../observe/slow-runs';
import { type EdgeContext, unary } from './adapt';

type ObserveHandlers = Pick<LucienHandlers, 'GetScriptStats' | 'GetSlowRuns'>;

export interface ObservedState {
  readonly stats: ScriptStatsBook;
  readonly slowRuns: SlowRunLog;
}

export function toStatsMessage(s: ScriptStatsView): ScriptStats {
  return {
    name: s.name,
    engine: s.engine,
    calls: s.calls,
    ok: s.outcomes.ok,
    errors: s.outcomes.error,
    timeouts: s.outcomes.timeout,
    memory: s.outcomes.memory,
    limits: s.outcomes.limit,
    conflicts: s.outcomes.conflict,
    cancelled: s.outcomes.cancelled,
    p50_ms: s.p50Ms,
    p99_ms: s.p99Ms,
    mean_ms: s.meanMs,
    max_ms: s.maxMs,
    attempts: s.attempts,
    bridge_calls: s.bridgeCalls,
    last_run_unix_ms: s.lastRunUnixMs,
    last_error: s.lastError?.message ?? '',
    last_error_line: s.lastError?.line ?? 0,
    last_error_unix_ms: s.lastError?.unixMs ?? 0,
    last_error_code: s.lastError?.code ?? '',
  };
}

export function observeHandlers(edge: EdgeContext, observed: ObservedState): ObserveHandlers {
  return {
    GetScriptStats: unary<GetScriptStatsRequest__Output, GetScriptStatsResponse>(
      edge,
      'GetScriptStats',
      'read',
      async (request) => {
        if (request.name === '') return { scripts: observed.stats.all().map(toStatsMessage) };
        const one = observed.stats.get(request.name);
        return { scripts: one === undefined ? [] : [toStatsMessage(one)] };
      },
    ),

    GetSlowRuns: unary<GetSlowRunsRequest__Output, GetSlowRunsResponse>(
      edge,
      'GetSlowRuns',
      'admin',
      async (request) => ({
        runs: observed.slowRuns.list(request.limit).map((r) => ({
          id: r.id,
          unix_ms: r.unixMs,
          script: r.script,
          engine: r.engine,
          duration_ms: r.durationMs,
          attempts: r.attempts,
          bridge_calls: r.bridgeCalls,
          outcome: r.outcome,
          args: r.args,
          logs: [...r.logs],
          dry_run: r.dryRun,
        })),
        threshold_ms: observed.slowRuns.thresholdMs,
        capacity: observed.slowRuns.capacity,
      }),
    ),
  };
}
