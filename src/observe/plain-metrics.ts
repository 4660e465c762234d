/**
 * Counters and histograms for the hot path, kept as plain numbers and handed
 * to prom-client's registry only when it is scraped. prom-client's own
 * children re-hash their labels on every inc/observe (about 1–2 µs each on
 * this machine); here a caller resolves a series once (a `cell`) and then
 * pays an increment. The exposition format, HELP and TYPE lines stay
 * prom-client's. Never used for gauges (those are read at scrape time).
 */
import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;

interface Exported {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** A metric prom-client's Registry can expose (it needs only these members). */
abstract class PlainMetric<Cell> {
  protected readonly cells = new Map<string, { labels: Labels; cell: Cell }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  readonly aggregator = 'sum';

  protected abstract make(): Cell;
  protected abstract export(labels: Labels, cell: Cell, out: Exported[]): void;

  /** The series for these label values (in labelNames order); keep it and update it directly. */
  cell(...values: string[]): Cell {
    const key = values.join('\u0000');
    let found = this.cells.get(key);
    if (found === undefined) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      found = { labels, cell: this.make() };
      this.cells.set(key, found);
    }
    return found.cell;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Exported[] }> {
    const values: Exported[] = [];
    for (const { labels, cell } of this.cells.values()) this.export(labels, cell, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.cells.clear();
  }
}

export interface CounterCell {
  value: number;
}

export class PlainCounter extends PlainMetric<CounterCell> {
  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, 'counter', labelNames, registry);
  }

  protected make(): CounterCell {
    return { value: 0 };
  }

  protected export(labels: Labels, cell: CounterCell, out: Exported[]): void {
    out.push({ value: cell.value, labels });
  }
}

export interface HistogramCell {
  /** Count per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class PlainHistogram extends PlainMetric<HistogramCell> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, 'histogram', labelNames, registry);
  }

  protected make(): HistogramCell {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  observe(cell: HistogramCell, value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    cell.counts[i] = (cell.counts[i] as number) + 1;
    cell.sum += value;
    cell.count++;
  }

  protected export(labels: Labels, cell: HistogramCell, out: Exported[]): void {
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += cell.counts[i] as number;
      out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: String(bound) }, value: cumulative });
    });
    out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cell.count });
    out.push({ metricName: `${this.name}_sum`, labels, value: cell.sum });
    out.push({ metricName: `${this.name}_count`, labels, value: cell.count });
  }
}
