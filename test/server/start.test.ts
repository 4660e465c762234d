/**
 * Starting the server as an operator would: --help prints every option, a
 * data directory held by another server is named as such, and `npm start`
 * rebuilds only when a source changed (scripts/build-if-stale.js).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_OPTIONS } from '../../src/config';
import { MAIN, ROOT, startServer } from '../helpers/server';

test('--help prints every option with its variable and default, and exits 0 (also through npm start --)', () => {
  const help = execFileSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  expect(help).toContain('Usage: npm start -- [options]');
  for (const option of CONFIG_OPTIONS) {
    expect(help).toContain(`--${option.flag} VALUE`);
    expect(help).toContain(option.env);
  }
  // npm passes the flag through to the server (the pre-step is tested below).
  const viaNpm = execFileSync('npm', ['start', '--ignore-scripts', '--silent', '--', '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(viaNpm).toContain('--data-dir VALUE');
});

test('a data directory locked by a running server is reported as in use by another process', async () => {
  const first = await startServer({ waitForPool: false });
  try {
    const second = spawn(
      process.execPath,
      [MAIN, '--port', '0', '--data-dir', first.dataDir, '--log-format', 'json', '--engine-pool', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    second.stdout.on('data', (d: Buffer) => (output += d.toString()));
    second.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => second.on('close', resolve));
    expect(code).toBe(1);
    expect(output).toContain(`data directory ${first.dataDir} is in use by another process`);
    expect(output).not.toContain('Database failed to open');
  } finally {
    await first.stop();
    first.cleanup();
  }
});

test('npm start builds only when a source is newer than the last build', () => {
  const root = mkdtempSync(join(tmpdir(), 'lucien-stale-'));
  try {
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'dist/src'), { recursive: true });
    writeFileSync(join(root, 'src/a.ts'), 'export {};\n');
    writeFileSync(join(root, 'dist/src/main.js'), '');
    const log = join(root, 'builds.log');
    const run = () =>
      execFileSync(
        process.execPath,
        [join(ROOT, 'scripts/build-if-stale.js'), '--root', root, '--command', `echo built >> ${log}`],
        { encoding: 'utf8', stdio: 'pipe' },
      );
    const builds = () => readFileSync(log, 'utf8').trim().split('\n').length;
    const past = Date.now() / 1000 - 60;
    utimesSync(join(root, 'src/a.ts'), past, past);
    run();
    expect(builds()).toBe(1);
    run();
    run();
    expect(builds()).toBe(1);
    // A source saved after the build: the next start builds again.
    const later = Date.now() / 1000 + 5;
    utimesSync(join(root, 'src/a.ts'), later, later);
    run();
    expect(builds()).toBe(2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
