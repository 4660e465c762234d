/**
 * lucien export / import against real LevelDB servers. An export taken while
 * transfers move money between accounts at both ends of the keyspace (with
 * thousands of keys between them, so the export spans many chunks) still
 * sums to the same total: it is one snapshot. Imported into an empty server,
 * it reproduces every key and script exactly; importing again writes
 * nothing; a file cut short is reported.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LucienClient } from '../../clients/typescript';
import { lucien } from '../helpers/cli';
import { type RunningServer, startServer } from '../helpers/server';

const ACCOUNTS = 100;
const BALANCE = 1000;
/** Keys between the two halves of the accounts (bucket order: a-accounts, m-filler, z-accounts). */
const FILLER = Number(process.env.LUCIEN_TEST_EXPORT_KEYS ?? 20000);

let source: RunningServer;
let client: LucienClient;
let work: string;

const TRANSFER = `const from = buckets.getBucket(args[0]), to = buckets.getBucket(args[2]);
const a = from.get(args[1]), b = to.get(args[3]);
const n = Math.min(args[4], a.balance);
from.put(args[1], {balance: a.balance - n});
to.put(args[3], {balance: b.balance + n});
result = n;`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lucien-export-'));
  source = await startServer();
  client = new LucienClient({ address: source.address });
  const half = ACCOUNTS / 2;
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({
    type: 'put' as const,
    bucket: i < half ? 'a-accounts' : 'z-accounts',
    key: `acct-${i}`,
    value: { balance: BALANCE },
  }));
  await client.batch(accounts);
  for (let start = 0; start < FILLER; start += 1000) {
    const ops = [];
    for (let i = start; i < Math.min(FILLER, start + 1000); i++)
      ops.push({
        type: 'put' as const,
        bucket: 'm-filler',
        key: `k${String(i).padStart(6, '0')}`,
        value: `{"i": ${i}, "pad": "${'x'.repeat(60)}", "big": 90071992547409${String(i % 100).padStart(2, '0')}}`,
      });
    await client.batch(ops);
  }
  // Keys and values that must survive byte for byte: unicode, escapes, a number beyond 2^53, a line break inside the text.
  await client.put('odd', 'ключ/with spaces', '{"text":"naïve \\u2028 \\"quoted\\"","n":9007199254740993,"f":1.50}');
  await client.put('odd', 'multiline', '{\n  "a": 1\n}');
  await client.putScript('transfer', TRANSFER, { engine: 'javascript', description: 'moves money' });
  await client.putScript('hello', 'result = "hello " + args[0]\n');
});

afterAll(async () => {
  client?.close();
  await source?.stop();
  source?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

interface Line {
  lucien_export?: number;
  revision?: number;
  bucket?: string;
  key?: string;
  value?: { balance?: number };
  script?: string;
  end?: boolean;
  records?: number;
  scripts?: number;
}
const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
const total = (records: Line[]) =>
  records.filter((r) => r.bucket?.endsWith('-accounts')).reduce((sum, r) => sum + (r.value?.balance ?? 0), 0);

test('an export taken while transfers run is one snapshot: the accounts always sum to the same total', async () => {
  let stop = false;
  let transfers = 0;
  const loops = Array.from({ length: 3 }, async (_, worker) => {
    const c = new LucienClient({ address: source.address });
    let i = worker;
    while (!stop) {
      const x = i % (ACCOUNTS / 2);
      const y = ACCOUNTS / 2 + ((i * 7) % (ACCOUNTS / 2));
      const [fromBucket, fromKey, toBucket, toKey] =
        i % 2 === 0
          ? ['a-accounts', `acct-${x}`, 'z-accounts', `acct-${y}`]
          : ['z-accounts', `acct-${y}`, 'a-accounts', `acct-${x}`];
      await c.run('transfer', [fromBucket, fromKey, toBucket, toKey, 1 + (i % 50)]);
      transfers++;
      i += 3;
    }
    c.close();
  });
  try {
    for (let round = 0; round < 2; round++) {
      const file = join(work, `during-${round}.jsonl`);
      const before = transfers;
      const out = await lucien(['export', '-o', file], { env: { LUCIEN_SERVER: source.address } });
      expect(out.code).toBe(0);
      const during = transfers - before;
      const lines = parse(readFileSync(file, 'utf8'));
      const header = lines[0] as Line;
      expect(header).toMatchObject({ lucien_export: 1, revision: expect.any(Number) });
      const records = lines.filter((l) => l.bucket !== undefined);
      expect(records.filter((r) => r.bucket?.endsWith('-accounts'))).toHaveLength(ACCOUNTS);
      expect(records).toHaveLength(ACCOUNTS + FILLER + 2);
      expect(records.every((r) => (r as { revision: number }).revision <= (header.revision as number))).toBe(true);
      expect(total(records)).toBe(ACCOUNTS * BALANCE);
      expect(lines[lines.length - 1]).toEqual({ end: true, records: ACCOUNTS + FILLER + 2, scripts: 2 });
      // The store moved on while the export streamed: transfers committed during it.
      expect(during).toBeGreaterThan(0);
      expect(await client.currentRevision()).toBeGreaterThan(header.revision as number);
    }
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  expect(transfers).toBeGreaterThan(0);
});

test('an export imported into an empty server reproduces every key and script exactly; importing again writes nothing', async () => {
  const env = { LUCIEN_SERVER: source.address };
  const file = join(work, 'quiet.jsonl');
  const exported = await lucien(['export', '-o', file], { env });
  expect(exported.stderr).toMatch(
    /^exported [\d,]+ keys and 2 scripts at revision \d+ in [\d.]+ s \([\d,]+ keys\/s\)\n$/,
  );
  const target = await startServer({ waitForPool: false });
  try {
    const into = { LUCIEN_SERVER: target.address };
    const imported = await lucien(['import', file], { env: into });
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain(
      `imported ${(ACCOUNTS + FILLER + 2).toLocaleString('en-US')} keys (${(ACCOUNTS + FILLER + 2).toLocaleString('en-US')} written, 0 unchanged) and 2 scripts (2 written)`,
    );
    const again = join(work, 'again.jsonl');
    expect((await lucien(['export', '-o', again], { env: into })).code).toBe(0);
    const strip = (text: string) =>
      text
        .split('\n')
        .slice(1)
        .map((l) => l.replace(/,"revision":\d+\}$/, '}'));
    expect(strip(readFileSync(again, 'utf8'))).toEqual(strip(readFileSync(file, 'utf8')));
    // Values come back byte for byte (the one with a line break only loses that whitespace in the file).
    const t = new LucienClient({ address: target.address });
    expect((await t.getEntry('odd', 'ключ/with spaces'))?.text).toBe(
      '{"text":"naïve \\u2028 \\"quoted\\"","n":9007199254740993,"f":1.50}',
    );
    expect(await t.getScript('transfer')).toMatchObject({
      engine: 'javascript',
      source: TRANSFER,
      description: 'moves money',
    });
    expect((await t.run('hello', ['you'])).result).toBe('hello you');
    const revision = await t.currentRevision();
    t.close();
    const second = await lucien(['import', file], { env: into });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('(0 written,');
    expect(second.stderr).toContain('and 2 scripts (0 written)');
    const t2 = new LucienClient({ address: target.address });
    expect(await t2.currentRevision()).toBe(revision);
    t2.close();
  } finally {
    await target.stop();
    target.cleanup();
  }
});

test('import reports a file cut short, refuses what is not an export, and keeps batches within 1,000 keys', async () => {
  const file = join(work, 'quiet.jsonl');
  const text = readFileSync(file, 'utf8').split('\n');
  const cut = join(work, 'cut.jsonl');
  writeFileSync(cut, text.slice(0, 500).join('\n') + '\n');
  const target = await startServer({ args: ['--backend', 'memory'], waitForPool: false });
  try {
    const env = { LUCIEN_SERVER: target.address };
    const truncated = await lucien(['import', cut], { env });
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain('cut short');
    expect(truncated.stderr).toContain('imported 499 keys');
    const notExport = join(work, 'not.jsonl');
    writeFileSync(notExport, '{"hello": 1}\n');
    expect(await lucien(['import', notExport], { env })).toMatchObject({ code: 2 });
    expect((await lucien(['import', cut, '--batch-size', '1001'], { env })).code).toBe(2);
    const small = await lucien(['import', '-', '--batch-size', '7'], {
      env,
      input: text.slice(0, 30).join('\n') + '\n',
    });
    expect(small.stderr).toContain('imported 29 keys');
  } finally {
    await target.stop();
    target.cleanup();
  }
});
