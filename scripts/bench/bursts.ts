/**
 * How the load client and a server take turns, seen from the client: Put at
 * concurrency 16 against Lucien and etcd, and Lucien's Get for reference
 * (same lean client, cells alternating), with the time of every request sent and answer received.
 * The client's events fall into bursts (answers read and requests sent back
 * in one go) separated by waits, during which every request is at the
 * server. Per burst: answers in it, the client's busy span, and the wait
 * before the next burst (the server's turnaround for a burst, transfers
 * included). Diagnostic only: it prints, and never gates anything.
 *
 *   node dist/scripts/bench/bursts.js [--reps 3] [--ms 1000] [--concurrency 16] [--gap-us 60]
 */
import { parseArgs } from 'node:util';
import { EtcdLean, encodeEtcdPut } from './etcd-client';
import { drive } from './drive';
import { KV_BUCKET, KV_KEYS, KV_VALUE } from './fixtures';
import { LucienLean, encodeGet, encodePut } from './lucien-client';
import { type Running, startEtcd, startLucien } from './servers';
import { quantile } from './stats';

const { values: argv } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    ms: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    'gap-us': { type: 'string', default: '60' },
  },
});
const reps = Number(argv.reps);
const ms = Number(argv.ms);
const concurrency = Number(argv.concurrency);
const gapMs = Number(argv['gap-us']) / 1000;

interface Bursts {
  readonly rps: number;
  readonly answers: number;
  readonly busyUs: number;
  readonly waitUs: number;
}

const median = (values: number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/** Splits the client's event times (answers received) into bursts at every quiet gap longer than gapMs. */
function bursts(sent: readonly number[], received: readonly number[]): Omit<Bursts, 'rps'> {
  const events = [...sent.map((t) => [t, 0] as const), ...received.map((t) => [t, 1] as const)].sort(
    (a, b) => a[0] - b[0],
  );
  const answers: number[] = [];
  const busy: number[] = [];
  const wait: number[] = [];
  let start = events[0]?.[0] ?? 0;
  let last = start;
  let inBurst = 0;
  for (const [t, kind] of events) {
    if (t - last > gapMs) {
      answers.push(inBurst);
      busy.push((last - start) * 1000);
      wait.push((t - last) * 1000);
      start = t;
      inBurst = 0;
    }
    if (kind === 1) inBurst++;
    last = t;
  }
  return { answers: median(answers), busyUs: median(busy), waitUs: median(wait) };
}

async function measure(op: (i: number) => Promise<unknown>): Promise<Bursts> {
  const sent: number[] = [];
  const received: number[] = [];
  const sample = await drive(
    async (i) => {
      sent.push(performance.now());
      await op(i);
      received.push(performance.now());
    },
    concurrency,
    ms,
  );
  return { rps: sample.rps, ...bursts(sent, received) };
}

async function main(): Promise<void> {
  const started: Running[] = [];
  try {
    const etcdServer = await startEtcd();
    if (etcdServer === undefined) throw new Error('etcd is not installed');
    started.push(etcdServer);
    const lucienServer = await startLucien();
    started.push(lucienServer);
    const lucien = await LucienLean.connect(lucienServer.address);
    const etcd = await EtcdLean.connect(etcdServer.address);
    const put = Array.from({ length: KV_KEYS }, (_, i) => encodePut(KV_BUCKET, `k${i}`, KV_VALUE));
    const etcdPut = Array.from({ length: KV_KEYS }, (_, i) => encodeEtcdPut(`${KV_BUCKET}/k${i}`, KV_VALUE));
    const get = Array.from({ length: KV_KEYS }, (_, i) => encodeGet(KV_BUCKET, `k${i}`));
    const cells: [string, (i: number) => Promise<unknown>][] = [
      ['Lucien Put', (i) => lucien.putEncoded(put[i % KV_KEYS] as Buffer)],
      ['Lucien Get', (i) => lucien.getEncoded(get[i % KV_KEYS] as Buffer)],
      ['etcd Put', (i) => etcd.putEncoded(etcdPut[i % KV_KEYS] as Buffer)],
    ];
    for (const [, op] of cells) await drive(op, concurrency, 300);
    const results = new Map<string, Bursts[]>(cells.map(([name]) => [name, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const [name, op] of rep % 2 === 0 ? cells : [...cells].reverse()) results.get(name)?.push(await measure(op));
    }
    console.log(`Put at concurrency ${concurrency}, ${reps} × ${ms} ms, bursts split at gaps > ${gapMs * 1000} µs`);
    console.log('| server | req/s | answers per burst | client busy per burst µs | wait per burst µs |');
    console.log('|---|---|---|---|---|');
    for (const [name, rs] of results) {
      const m = (f: (b: Bursts) => number) => Math.round(median(rs.map(f)));
      console.log(
        `| ${name} | ${m((b) => b.rps)} | ${m((b) => b.answers)} | ${m((b) => b.busyUs)} | ${m((b) => b.waitUs)} |`,
      );
    }
    lucien.close();
    etcd.rpc.close();
  } finally {
    for (const s of started.reverse()) await s.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
