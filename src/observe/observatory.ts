/**
 * The Observer the server runs with: every event feeds the per-script
 * statistics and the slow-run log, and, when metrics are on, the Prometheus
 * metrics. With metrics off, rpc and stream events cost one empty call.
 */
import type { Metrics } from './metrics';
import { type HostLoss, NO_OBSERVER, type Observer, type RpcRecorder, type RunReport } from './observer';
import { ScriptStatsBook } from './script-stats';
import { SlowRunLog } from './slow-runs';

export interface ObservatoryOptions {
  readonly slowRunMs: number;
  readonly slowRunLogSize: number;
}

export class Observatory implements Observer {
  readonly stats = new ScriptStatsBook();
  readonly slowRuns: SlowRunLog;
  private metrics: Metrics | undefined;

  constructor(options: ObservatoryOptions) {
    this.slowRuns = new SlowRunLog(options.slowRunMs, options.slowRunLogSize);
  }

  /** Turns metrics on; call before the server asks for rpc recorders. */
  attach(metrics: Metrics): void {
    this.metrics = metrics;
  }

  get metricsEnabled(): boolean {
    return this.metrics !== undefined;
  }

  rpc(method: string): RpcRecorder {
    return this.metrics?.rpc(method) ?? NO_OBSERVER.rpc(method);
  }

  streamOpened(method: string): void {
    if (method === 'Watch') this.metrics?.streams(1);
  }

  streamClosed(method: string): void {
    if (method === 'Watch') this.metrics?.streams(-1);
  }

  run(report: RunReport): void {
    const now = Date.now();
    this.metrics?.run(this.stats.label(report.script), report);
    this.stats.record(report, now);
    this.slowRuns.record(report, now);
  }

  hostLost(engine: string, reason: HostLoss): void {
    this.metrics?.hostLost(engine, reason);
  }
}
