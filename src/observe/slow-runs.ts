/**
 * The slow-run log, like Redis SLOWLOG: runs that took at least the threshold
 * (LUCIEN_SLOW_RUN_MS) are kept in a fixed-size ring with what helps explain
 * them (attempts, bucket calls, outcome, the start of the args and logs).
 * Memory is bounded by capacity × the cut-down sizes below; it never holds a
 * whole argument list or log.
 */
import { BRIDGE_OPS, type RunOutcome, type RunReport } from './observer';

export const SLOW_RUN_LOG_LINES = 5;
export const SLOW_RUN_TEXT_BYTES = 256;

export interface SlowRun {
  readonly id: number;
  readonly unixMs: number;
  readonly script: string;
  readonly engine: string;
  readonly durationMs: number;
  readonly attempts: number;
  readonly bridgeCalls: number;
  readonly outcome: RunOutcome;
  readonly args: string;
  readonly logs: readonly string[];
  readonly dryRun: boolean;
}

/** The first `bytes` UTF-8 bytes of text (never splitting a character), with … when cut. */
export function cut(text: string, bytes = SLOW_RUN_TEXT_BYTES): string {
  if (text.length * 3 <= bytes || Buffer.byteLength(text) <= bytes) return text;
  let out = '';
  let size = 0;
  for (const ch of text) {
    size += Buffer.byteLength(ch);
    if (size > bytes - 3) break;
    out += ch;
  }
  return `${out}…`;
}

export class SlowRunLog {
  private readonly ring: (SlowRun | undefined)[];
  private next = 0;

  /** `thresholdMs` 0 keeps every run; `capacity` 0 keeps none. */
  constructor(
    readonly thresholdMs: number,
    readonly capacity: number,
  ) {
    this.ring = new Array<SlowRun | undefined>(capacity);
  }

  record(report: RunReport, now = Date.now()): void {
    if (this.capacity === 0 || report.durationMs < this.thresholdMs) return;
    let bridgeCalls = 0;
    for (const op of BRIDGE_OPS) bridgeCalls += report.bridgeCalls[op];
    const id = ++this.next;
    this.ring[id % this.capacity] = {
      id,
      unixMs: now,
      script: report.script,
      engine: report.engine,
      durationMs: report.durationMs,
      attempts: report.attempts,
      bridgeCalls,
      outcome: report.outcome,
      args: cut(report.args),
      logs: report.logs.slice(0, SLOW_RUN_LOG_LINES).map((line) => cut(line)),
      dryRun: report.dryRun,
    };
  }

  /** Newest first; at most `limit` (0: all kept). */
  list(limit = 0): SlowRun[] {
    const out: SlowRun[] = [];
    const max = limit === 0 ? this.capacity : Math.min(limit, this.capacity);
    for (let id = this.next; id > 0 && out.length < max; id--) {
      const run = this.ring[id % this.capacity];
      if (run === undefined || run.id !== id) break;
      out.push(run);
    }
    return out;
  }
}
