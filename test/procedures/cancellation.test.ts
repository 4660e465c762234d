/**
 * Cancellation (one engine host per language): a Run whose client cancels,
 * or whose gRPC deadline passes, stops at once — its host is killed and
 * replaced, nothing it wrote is committed, and the next run is served long
 * before the abandoned run's own timeout_ms. A queued run whose client is
 * gone never starts; time queued counts against a run's deadline, and the
 * error says it never started.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';

let server: RunningServer;
let client: TestClient;

/** A runaway's own time limit, and how long a next run may wait for its replacement host (Pyodide boots slowly on a loaded machine). */
const RUNAWAY_MS = 300000;
const NEXT_MS = 120000;

const SCRIPTS: Record<string, Record<string, string>> = {
  javascript: {
    spin: "buckets.getBucket('out').put(args[0], {written: true}); while (true) {}",
    mark: "buckets.getBucket('out').put(args[0], {written: true}); result = 1",
    one: 'result = 1',
  },
  python: {
    spin: "buckets.getBucket('out').put(args[0], {'written': True})\nwhile True:\n    pass",
    mark: "buckets.getBucket('out').put(args[0], {'written': True})\nresult = 1",
    one: 'result = 1',
  },
};

beforeAll(async () => {
  // Runaways get 5 minutes: anything served well before that was freed by the cancel, not by their own limit.
  server = await startServer({ args: ['--backend', 'memory', '--script-max-timeout-ms', '300000'] });
  client = connect(server.address);
  for (const [engine, scripts] of Object.entries(SCRIPTS)) {
    for (const [name, source] of Object.entries(scripts))
      await client.call('PutScript', { name: `${engine}_${name}`, engine, source });
  }
});

afterAll(async () => {
  client.close();
  await server.stop();
  server.cleanup();
});

/** Starts a Run the test can cancel; resolves with its error (or result). */
function startRun(name: string, args: unknown[], options: { timeoutMs?: number; deadlineMs?: number } = {}) {
  let call: grpc.ClientUnaryCall | undefined;
  const settled = new Promise<grpc.ServiceError | null>((resolve) => {
    const opts: grpc.CallOptions =
      options.deadlineMs !== undefined ? { deadline: Date.now() + options.deadlineMs } : {};
    call = client.raw.Run(
      { name, args: JSON.stringify(args), timeout_ms: options.timeoutMs ?? RUNAWAY_MS },
      new grpc.Metadata(),
      opts,
      (err) => resolve(err),
    );
  });
  return { cancel: () => call?.cancel(), settled };
}

async function absent(key: string): Promise<boolean> {
  const err = await client.call('Get', { bucket: 'out', key }).then(
    () => undefined,
    (e: grpc.ServiceError) => e,
  );
  return err?.code === grpc.status.NOT_FOUND;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['javascript', 'python'])('%s', (engine) => {
  test('a client that cancels a runaway run frees its host at once; nothing it wrote is committed', async () => {
    const key = `${engine}-cancelled`;
    const run = startRun(`${engine}_spin`, [key]);
    await sleep(300);
    const cancelledAt = Date.now();
    run.cancel();
    expect((await run.settled)?.code).toBe(grpc.status.CANCELLED);
    // The next run (same engine, one host) is served by the replacement, far before the runaway's 60 s.
    const next = await client.call<{ result: string }>(
      'Run',
      { name: `${engine}_one`, timeout_ms: NEXT_MS },
      undefined,
      NEXT_MS + 5000,
    );
    const servedMs = Date.now() - cancelledAt;
    console.log(`${engine}: cancel -> next run served in ${servedMs} ms`);
    expect(JSON.parse(next.result)).toBe(1);
    expect(servedMs).toBeLessThan(NEXT_MS);
    expect(await absent(key)).toBe(true);
  });

  test('a run whose gRPC deadline passes is stopped then, not at its own timeout_ms', async () => {
    const key = `${engine}-deadline`;
    const run = startRun(`${engine}_spin`, [key], { deadlineMs: 700 });
    const started = Date.now();
    expect((await run.settled)?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const next = await client.call<{ result: string }>(
      'Run',
      { name: `${engine}_one`, timeout_ms: NEXT_MS },
      undefined,
      NEXT_MS + 5000,
    );
    console.log(`${engine}: deadline 700 ms -> next run served ${Date.now() - started} ms after the call began`);
    expect(JSON.parse(next.result)).toBe(1);
    expect(Date.now() - started).toBeLessThan(NEXT_MS);
    expect(await absent(key)).toBe(true);
  });

  test('a queued run whose client cancels never starts; time queued counts against the deadline, and the error says it never started', async () => {
    const blocker = startRun(`${engine}_spin`, [`${engine}-blocker`], { timeoutMs: 2500 });
    await sleep(300);
    // Queued behind the blocker, then abandoned: its script must never run.
    const queued = startRun(`${engine}_mark`, [`${engine}-queued`]);
    await sleep(200);
    queued.cancel();
    expect((await queued.settled)?.code).toBe(grpc.status.CANCELLED);
    // Queued with less time than the blocker has left: it times out in the queue.
    const started = Date.now();
    const late = await failure(
      client.call('Run', { name: `${engine}_mark`, args: JSON.stringify([`${engine}-late`]), timeout_ms: 400 }),
    );
    expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(errorCode(late)).toBe('SCRIPT_TIMEOUT');
    expect(late.details).toMatch(/in the queue .* never started/);
    expect(Date.now() - started).toBeLessThan(2000 + 400);
    expect((await blocker.settled)?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // The host serves again; neither abandoned run ever wrote.
    expect(
      JSON.parse(
        (
          await client.call<{ result: string }>(
            'Run',
            { name: `${engine}_one`, timeout_ms: NEXT_MS },
            undefined,
            NEXT_MS + 5000,
          )
        ).result,
      ),
    ).toBe(1);
    expect(await absent(`${engine}-queued`)).toBe(true);
    expect(await absent(`${engine}-late`)).toBe(true);
  });
});
