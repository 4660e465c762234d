/**
 * EnginePool against scripted fake hosts: warm() answers once one host is
 * ready and the rest start after it, scripts preloaded into every host that
 * starts later, and a compile that never answers is cut off at the compile
 * limit with the host killed and replaced (at validation, at preload, and
 * when a new host is being prepared).
 */
import { rmSync } from 'node:fs';
import type { LogMeta, Logger } from '../../src/log';
import { EnginePool } from '../../src/procedures/pool';
import { fakeHosts } from '../helpers/fake-host';

const hosts = fakeHosts();
afterAll(() => hosts.cleanup());

/** A logger that keeps what it is told. */
function recordingLogger(lines: { level: string; message: string; meta?: LogMeta }[]): Logger {
  const at = (level: string) => (message: string, meta?: LogMeta) => lines.push({ level, message, meta });
  const log: Logger = {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: () => log,
    debugEnabled: false,
  };
  return log;
}

const OPTIONS = { size: 3, memoryLimitBytes: 1 << 30, compileTimeoutMs: 400, scriptCache: 16 };
const RUN = "done(msg, '1');";
const HANG = '/* never answers */';

test('warm() resolves with one host; the others start one by one after it, with the preloaded scripts compiled in', async () => {
  const lines: { level: string; message: string; meta?: LogMeta }[] = [];
  const pool = new EnginePool(hosts.spec('ok', { onRun: RUN }), OPTIONS, recordingLogger(lines));
  try {
    await pool.warm();
    expect(pool.pids).toHaveLength(1);
    await pool.preload([{ name: 's', key: 's@1', source: 'x' }]);
    await pool.whenComplete();
    expect(pool.pids).toHaveLength(3);
    expect(lines.map((l) => l.message)).toEqual(['engine warm', 'engine pool complete']);
    expect(lines[1]?.meta).toMatchObject({ hosts: 3 });
  } finally {
    await pool.close();
  }
});

test('a compile that never answers fails validation with SCRIPT_TIMEOUT, and the host is killed and replaced', async () => {
  const pool = new EnginePool(
    hosts.spec('hang', { onRun: RUN, onCompile: HANG }),
    { ...OPTIONS, size: 1 },
    recordingLogger([]),
  );
  try {
    await pool.warm();
    const [first] = pool.pids;
    const started = Date.now();
    await expect(pool.validate('slow', 'x')).rejects.toMatchObject({ code: 'SCRIPT_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(OPTIONS.compileTimeoutMs + 1000);
    // The replacement serves runs.
    const result = await pool.run(
      {
        name: 'r',
        key: 'r@1',
        source: 'x',
        args: '[]',
        timeoutMs: 5000,
        limits: { maxLogBytes: 1024, maxResultBytes: 1024 },
      },
      () => ({ value: 'null' }),
    );
    expect(result.result).toBe('1');
    expect(pool.pids).not.toContain(first);
  } finally {
    await pool.close();
  }
});

test('a preload compile that never answers rejects instead of hanging the start, and close() stops the replacements', async () => {
  const lines: { level: string; message: string; meta?: LogMeta }[] = [];
  const spec = hosts.spec('hang-preload', { onRun: RUN, onCompile: HANG });
  const pool = new EnginePool(spec, { ...OPTIONS, size: 1 }, recordingLogger(lines));
  try {
    await pool.warm();
    await expect(pool.preload([{ name: 's', key: 's@1', source: 'x' }])).rejects.toMatchObject({
      code: 'SCRIPT_TIMEOUT',
    });
    // Replacements keep failing too (their preload hangs), backing off between tries.
    await new Promise((resolve) => setTimeout(resolve, 600));
  } finally {
    await pool.close();
  }
  // From here any start would fail loudly; none may be tried after close().
  rmSync(spec.entry);
  const before = lines.length;
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect(lines.slice(before)).toEqual([]);
});

test('a store that fails while a run is prepared (its snapshot, for the host read cache) fails the run, not the host', async () => {
  const pool = new EnginePool(
    hosts.spec('cache', { onRun: 'done(msg, JSON.stringify(msg.cache ?? null));' }),
    { ...OPTIONS, size: 1 },
    recordingLogger([]),
  );
  try {
    await pool.warm();
    const [first] = pool.pids;
    const request = {
      name: 'r',
      key: 'r@1',
      source: 'x',
      args: '[]',
      timeoutMs: 5000,
      limits: { maxLogBytes: 1024, maxResultBytes: 1024 },
    };
    const unavailable = Object.assign(new Error('etcd is unreachable'), { code: 'UNAVAILABLE' });
    const failing = { sync: () => Promise.reject(unavailable), record: () => undefined };
    await expect(pool.run({ ...request, cache: failing }, () => ({ value: 'null' }))).rejects.toBe(unavailable);
    // The same host serves the next run, and the sync rides on the run message.
    const sync = { revision: 7, changed: ['b/k'], reset: false, maxReadBatch: 10, maxBytes: 1024 };
    const recorded: unknown[] = [];
    const ok = { sync: async () => sync, record: (cached: unknown) => void recorded.push(cached) };
    const result = await pool.run({ ...request, cache: ok }, () => ({ value: 'null' }));
    expect(JSON.parse(result.result)).toEqual(sync);
    expect(recorded).toEqual([undefined]);
    expect(pool.pids).toEqual([first]);
  } finally {
    await pool.close();
  }
});

test('a host killed while idle is counted lost (a crash, to metrics) and replaced; the run it would have had goes to the replacement', async () => {
  const lost: string[] = [];
  const pool = new EnginePool(
    hosts.spec('observed', { onRun: RUN }),
    { ...OPTIONS, size: 1, onHostLost: (engine, reason) => lost.push(`${engine}:${reason}`) },
    recordingLogger([]),
  );
  try {
    await pool.warm();
    const [pid] = pool.pids;
    process.kill(pid as number, 'SIGKILL');
    const result = await pool.run(
      {
        name: 'r',
        key: 'r@1',
        source: 'x',
        args: '[]',
        timeoutMs: 5000,
        limits: { maxLogBytes: 1024, maxResultBytes: 1024 },
      },
      () => ({ value: 'null' }),
    );
    expect(result.result).toBe('1');
    expect(lost).toEqual(['fake:crash']);
    expect(pool.pids).not.toContain(pid);
    expect(pool.hostStates()).toMatchObject({ starting: 0, idle: 1, busy: 0 });
    expect(pool.queued).toBe(0);
  } finally {
    await pool.close();
  }
});
