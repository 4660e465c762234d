/**
 * The Prometheus metrics (prom-client): every lucien_* family, plus
 * prom-client's default process metrics, in one registry of our own. Event
 * metrics are updated through the Observer (observatory.ts) as plain numbers
 * (plain-metrics.ts) that the registry reads when scraped; gauges that
 * describe state (engine hosts, resident memory, revision, keys) are read
 * when scraped too. Only this file and plain-metrics.ts import prom-client.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineRegistry } from '../procedures/script-engine';
import { treeResidentBytes } from '../procedures/confinement';
import type { Backend } from '../storage/backend';
import type { KeyCounter } from './key-counts';
import { BRIDGE_OPS, type HostLoss, type RpcRecorder, type RunReport } from './observer';
import { type CounterCell, PlainCounter, PlainHistogram } from './plain-metrics';

/** Seconds; from 100 µs (a Get) to 10 s (a script near its time limit). */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets with their own `bucket` label on lucien_store_keys; the rest are summed under "_other". */
export const MAX_BUCKET_LABELS = 100;

export interface MetricSources {
  readonly engines: EngineRegistry;
  readonly backend: Backend;
  readonly keys: KeyCounter;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly rpcTotal: PlainCounter;
  private readonly rpcSeconds: PlainHistogram;
  private readonly runs: PlainCounter;
  private readonly runSeconds: PlainHistogram;
  private readonly attempts: PlainCounter;
  private readonly bridge: PlainCounter;
  private readonly restarts: PlainCounter;
  private readonly watchStreams: Gauge;

  constructor(sources: MetricSources) {
    const registry = this.registry;
    const registers = [registry];
    collectDefaultMetrics({ register: registry });
    this.rpcTotal = new PlainCounter(
      'lucien_rpc_requests_total',
      'Finished gRPC calls by method and status code.',
      ['method', 'code'],
      registry,
    );
    this.rpcSeconds = new PlainHistogram(
      'lucien_rpc_duration_seconds',
      'gRPC call latency in the server, from receipt to answer.',
      ['method'],
      BUCKETS,
      registry,
    );
    this.runs = new PlainCounter(
      'lucien_script_runs_total',
      'Finished script runs by outcome.',
      ['script', 'engine', 'outcome'],
      registry,
    );
    this.runSeconds = new PlainHistogram(
      'lucien_script_run_duration_seconds',
      'Script run latency, every attempt included.',
      ['script', 'engine'],
      BUCKETS,
      registry,
    );
    this.attempts = new PlainCounter(
      'lucien_script_attempts_total',
      'Script attempts (more than runs when conflicts made runs retry).',
      ['script'],
      registry,
    );
    this.bridge = new PlainCounter(
      'lucien_script_bridge_calls_total',
      'Bucket calls made by scripts, by operation.',
      ['script', 'op'],
      registry,
    );
    this.restarts = new PlainCounter(
      'lucien_engine_host_restarts_total',
      'Engine hosts lost and replaced, by reason.',
      ['engine', 'reason'],
      registry,
    );
    this.watchStreams = new Gauge({ name: 'lucien_watch_streams', help: 'Open Watch streams.', registers });

    const { engines, backend, keys } = sources;
    new Gauge({
      name: 'lucien_engine_hosts',
      help: 'Engine host processes by state (starting, idle, busy).',
      labelNames: ['engine', 'state'],
      registers,
      collect() {
        for (const name of engines.names) {
          const states = engines.get(name)?.hostStates?.();
          if (states === undefined) continue;
          this.set({ engine: name, state: 'starting' }, states.starting);
          this.set({ engine: name, state: 'idle' }, states.idle);
          this.set({ engine: name, state: 'busy' }, states.busy);
        }
      },
    });
    new Gauge({
      name: 'lucien_engine_resident_bytes',
      help: "Resident memory of an engine's host processes (and their children), summed.",
      labelNames: ['engine'],
      registers,
      async collect() {
        for (const name of engines.names) {
          const pids = engines.get(name)?.hostStates?.().pids ?? [];
          const sizes = await Promise.all(pids.map((pid) => treeResidentBytes(pid).catch(() => 0)));
          this.set(
            { engine: name },
            sizes.reduce((a, b) => a + b, 0),
          );
        }
      },
    });
    new Gauge({
      name: 'lucien_store_revision',
      help: 'The store revision (the latest commit).',
      registers,
      async collect() {
        this.set(await backend.currentRevision());
      },
    });
    new Gauge({
      name: 'lucien_store_keys',
      help: `Keys per bucket, counted at most every 30 s and up to 100000 per bucket; buckets past the first ${MAX_BUCKET_LABELS} are summed under bucket="_other".`,
      labelNames: ['bucket'],
      registers,
      async collect() {
        this.reset();
        const counts = await keys.all();
        let other = 0;
        counts.forEach((c, i) => {
          if (i < MAX_BUCKET_LABELS) this.set({ bucket: c.bucket }, c.keys);
          else other += c.keys;
        });
        if (counts.length > MAX_BUCKET_LABELS) this.set({ bucket: '_other' }, other);
      },
    });
  }

  rpc(method: string): RpcRecorder {
    const seconds = this.rpcSeconds.cell(method);
    const byCode = new Map<string, CounterCell>();
    return (code, s) => {
      let counter = byCode.get(code);
      if (counter === undefined) {
        counter = this.rpcTotal.cell(method, code);
        byCode.set(code, counter);
      }
      counter.value++;
      this.rpcSeconds.observe(seconds, s);
    };
  }

  /** `script` is already bounded (ScriptStatsBook.label). */
  run(script: string, report: RunReport): void {
    this.runs.cell(script, report.engine, report.outcome).value++;
    this.runSeconds.observe(this.runSeconds.cell(script, report.engine), report.durationMs / 1000);
    this.attempts.cell(script).value += report.attempts;
    for (const op of BRIDGE_OPS) {
      const n = report.bridgeCalls[op];
      if (n > 0) this.bridge.cell(script, op).value += n;
    }
  }

  hostLost(engine: string, reason: HostLoss): void {
    this.restarts.cell(engine, reason).value++;
  }

  streams(delta: number): void {
    this.watchStreams.inc(delta);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
