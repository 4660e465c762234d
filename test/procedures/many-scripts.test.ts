/**
 * Any number of scripts keeps running on every host: 1,000 scripts per
 * language, each run twice in turn, on one host per language that keeps at
 * most LUCIEN_ENGINE_SCRIPT_CACHE (here 100) compiled. The server decides
 * what each host holds and resends a source when a host no longer has it, so
 * no run ever meets "script is not compiled in this host", and the host's
 * memory stays bounded however many scripts pass through it.
 */
import { connect, type TestClient } from '../helpers/client';
import { enginePids, rssMb } from '../helpers/hosts';
import { type RunningServer, startServer } from '../helpers/server';

const SCRIPTS = 1000;
const CACHE = 100;
let server: RunningServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory', '--engine-script-cache', String(CACHE)] });
  client = connect(server.address);
});

afterAll(async () => {
  client.close();
  await server.stop();
  server.cleanup();
});

/** Runs `fn` over 0..n-1, `width` at a time. */
async function inParallel(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const source = (engine: string, i: number): string =>
  engine === 'python'
    ? `def f(x):\n    return x * ${i}\nresult = f(args[0])`
    : `function f(x) { return x * ${i}; }\nresult = f(args[0]);`;

test.each(['javascript', 'python'])(
  '%s: 1,000 scripts all run, twice over, on a host that keeps 100; its memory stays bounded',
  async (engine) => {
    const started = Date.now();
    await inParallel(SCRIPTS, 8, async (i) => {
      await client.call('PutScript', { name: `${engine}_${i}`, engine, source: source(engine, i) });
    });
    const registered = Date.now();
    const [host] = enginePids(server.process.pid as number).filter((h) => h.engine === engine);
    const rss: number[] = [];
    for (let pass = 0; pass < 2; pass++) {
      await inParallel(SCRIPTS, 8, async (i) => {
        const out = await client.call<{ result: string }>('Run', {
          name: `${engine}_${i}`,
          args: '[3]',
          timeout_ms: 20000,
        });
        expect(JSON.parse(out.result)).toBe(3 * i);
      });
      rss.push(rssMb(host?.pid as number));
    }
    // One host all along: nothing was lost and replaced on the way.
    expect(
      enginePids(server.process.pid as number)
        .filter((h) => h.engine === engine)
        .map((h) => h.pid),
    ).toEqual([host?.pid]);
    console.log(
      `${engine}: ${SCRIPTS} PutScripts in ${registered - started} ms; 2 x ${SCRIPTS} runs in ${Date.now() - registered} ms; host RSS after pass 1: ${rss[0]?.toFixed(0)} MiB, after pass 2: ${rss[1]?.toFixed(0)} MiB`,
    );
    // Bounded: the second pass (every run recompiling an evicted script) does not grow the host much.
    expect(rss[1] as number).toBeLessThan((rss[0] as number) + 40);
  },
);
