/**
 * Measures `lucien export` and `lucien import` in keys per second: starts a
 * LevelDB server, loads N keys (default 100,000, ~100-byte values) and two
 * scripts, exports them with the built CLI to a file, imports the file into
 * a second, empty server, and checks the counts. Prints one line per step.
 *
 *   npm run build && node dist/scripts/export-import-rates.js [--keys 100000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LucienClient } from '../clients/typescript';

const ROOT = join(__dirname, '../..');
const keys = Number(process.argv[process.argv.indexOf('--keys') + 1] ?? 100000) || 100000;

async function startServer(): Promise<{ address: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lucien-rates-'));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist/src/main.js'), '--port', '0', '--data-dir', dir, '--log-format', 'json', '--engine-pool', '1'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"address":"([^"]+)"[^\n]*"message":"serving"/.exec(out);
      if (m) resolve(m[1] as string);
    });
    void exited.then(() => reject(new Error(`server exited:\n${out}`)));
  });
  return {
    address,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function cli(args: string[], address: string): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lucien.js'), ...args], {
    env: { ...process.env, LUCIEN_SERVER: address },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`lucien ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stderr.trim();
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'lucien-rates-file-'));
  const source = await startServer();
  const target = await startServer();
  try {
    const client = new LucienClient({ address: source.address });
    const loadStart = Date.now();
    for (let start = 0; start < keys; start += 1000) {
      const ops = [];
      for (let i = start; i < Math.min(keys, start + 1000); i++)
        ops.push({
          type: 'put' as const,
          bucket: `b${i % 4}`,
          key: `key-${String(i).padStart(7, '0')}`,
          value: `{"i":${i},"name":"user ${i}","tags":["a","b"],"pad":"${'x'.repeat(40)}"}`,
        });
      await client.batch(ops);
    }
    await client.putScript('hello', 'result = "hello " + args[0]');
    await client.putScript('twice', 'result = args[0] * 2;', { engine: 'javascript' });
    client.close();
    console.log(`loaded ${keys} keys through Batch in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);
    const file = join(work, 'export.jsonl');
    console.log(cli(['export', '-o', file], source.address), `(${(statSync(file).size / 2 ** 20).toFixed(1)} MiB)`);
    console.log(cli(['import', file], target.address));
    console.log('again:', cli(['import', file], target.address));
    const check = new LucienClient({ address: target.address });
    let n = 0;
    for (let b = 0; b < 4; b++) n += await check.count(`b${b}`);
    check.close();
    if (n !== keys) throw new Error(`target holds ${n} keys, expected ${keys}`);
    console.log(`target holds all ${n} keys`);
  } finally {
    await source.stop();
    await target.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
