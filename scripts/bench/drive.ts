/**
 * The closed-loop load driver: `concurrency` workers each issue one request,
 * wait for its answer, and issue the next, for a fixed time. Records every
 * latency, the errors, and the CPU the load generator itself spent.
 */
import { quantile } from './stats';

/** One request; `i` counts requests across workers, `worker` is 0..concurrency-1. */
export type Op = (i: number, worker: number) => Promise<unknown>;

export interface Sample {
  readonly ops: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly seconds: number;
  readonly rps: number;
  readonly p50us: number;
  readonly p99us: number;
  /** CPU (user + system) of this process per completed request. */
  readonly clientCpuUs: number;
}

export async function drive(op: Op, concurrency: number, durationMs: number): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let i = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await op(i++, worker);
          latencies.push((performance.now() - t) * 1000);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
          if (errors > 1000) return;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    firstError,
    seconds,
    rps: latencies.length / seconds,
    p50us: quantile(latencies, 0.5),
    p99us: quantile(latencies, 0.99),
    clientCpuUs: latencies.length === 0 ? NaN : (cpu.user + cpu.system) / latencies.length,
  };
}
