/**
 * Per-script statistics since the server started (what GetScriptStats and the
 * admin page show): calls by outcome, latency percentiles over a window of
 * recent runs, attempts, bucket calls, the last error with its line. Memory
 * is bounded: at most MAX_TRACKED_SCRIPTS names, then every other script is
 * counted under OTHER_SCRIPTS. Must stay cheap: one record per run, no
 * sorting until someone asks.
 */
import { BRIDGE_OPS, type RunOutcome, type RunReport } from './observer';

/** Scripts tracked by name; past it, runs of new names are counted as "_other". */
export const MAX_TRACKED_SCRIPTS = 1000;
export const OTHER_SCRIPTS = '_other';
/** Runs the percentiles are computed over (the latest ones). */
export const LATENCY_WINDOW = 1024;

export interface ScriptStatsView {
  readonly name: string;
  readonly engine: string;
  readonly calls: number;
  readonly outcomes: Readonly<Record<RunOutcome, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly attempts: number;
  readonly bridgeCalls: number;
  readonly lastRunUnixMs: number;
  readonly lastError:
    { readonly code: string; readonly message: string; readonly line: number; readonly unixMs: number } | undefined;
}

class Entry {
  calls = 0;
  readonly outcomes: Record<RunOutcome, number> = {
    ok: 0,
    error: 0,
    timeout: 0,
    memory: 0,
    limit: 0,
    conflict: 0,
    cancelled: 0,
  };
  totalMs = 0;
  maxMs = 0;
  attempts = 0;
  bridgeCalls = 0;
  lastRunUnixMs = 0;
  lastError: ScriptStatsView['lastError'];
  private readonly window = new Float64Array(LATENCY_WINDOW);
  constructor(
    readonly name: string,
    public engine: string,
  ) {}

  record(report: RunReport, now: number): void {
    this.window[this.calls % LATENCY_WINDOW] = report.durationMs;
    this.calls++;
    this.outcomes[report.outcome]++;
    this.totalMs += report.durationMs;
    if (report.durationMs > this.maxMs) this.maxMs = report.durationMs;
    this.attempts += report.attempts;
    for (const op of BRIDGE_OPS) this.bridgeCalls += report.bridgeCalls[op];
    this.lastRunUnixMs = now;
    this.engine = report.engine;
    if (report.error !== undefined)
      this.lastError = {
        code: report.error.code,
        message: report.error.message,
        line: report.error.line ?? 0,
        unixMs: now,
      };
  }

  view(): ScriptStatsView {
    const n = Math.min(this.calls, LATENCY_WINDOW);
    const sorted = this.window.slice(0, n).sort();
    return {
      name: this.name,
      engine: this.engine,
      calls: this.calls,
      outcomes: { ...this.outcomes },
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      meanMs: this.calls === 0 ? 0 : this.totalMs / this.calls,
      maxMs: this.maxMs,
      attempts: this.attempts,
      bridgeCalls: this.bridgeCalls,
      lastRunUnixMs: this.lastRunUnixMs,
      lastError: this.lastError,
    };
  }
}

/** Nearest-rank percentile of sorted values (0 when there are none). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

export class ScriptStatsBook {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxTracked: number = MAX_TRACKED_SCRIPTS) {}

  /** The name runs of `script` are counted under: itself, or OTHER_SCRIPTS past the limit. */
  label(script: string): string {
    if (this.entries.has(script) || this.entries.size < this.maxTracked) return script;
    return OTHER_SCRIPTS;
  }

  record(report: RunReport, now = Date.now()): void {
    const name = this.label(report.script);
    let entry = this.entries.get(name);
    if (entry === undefined) {
      entry = new Entry(name, name === OTHER_SCRIPTS ? '' : report.engine);
      this.entries.set(name, entry);
    }
    entry.record(report, now);
  }

  get(name: string): ScriptStatsView | undefined {
    return this.entries.get(name)?.view();
  }

  /** Every tracked script, by name. */
  all(): ScriptStatsView[] {
    return [...this.entries.keys()].sort().map((name) => (this.entries.get(name) as Entry).view());
  }
}
