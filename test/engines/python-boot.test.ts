/**
 * Booting Pyodide from the build's memory snapshot (engines/python/boot.ts):
 * it boots the same interpreter a cold load does, and anything wrong with the
 * snapshot (missing, made for another Pyodide, corrupt) falls back to the
 * cold load instead of failing the host.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { metaFile, pyodideVersion, SNAPSHOT_FILE } from '../../engines/python/boot';
import { ROOT } from '../helpers/server';
import { resultOf, startPythonHost } from './python-harness';

const INDEX = `${join(ROOT, 'node_modules', 'pyodide')}/`;
const BUILT = join(ROOT, 'dist', 'engines', 'python', 'pyodide-memory.snapshot');
const dir = mkdtempSync(join(tmpdir(), 'lucien-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROBE = 'import sys, json, re; json.dumps({"v": sys.version_info[0], "m": bool(re.match("a+", "aaa"))})';

/** Boots in a child process (Pyodide cannot load inside jest's VM), through the compiled boot.js. */
async function boot(snapshotFile: string): Promise<{ fromSnapshot: boolean; probe: string }> {
  const script = `
    const { bootPyodide } = require(${JSON.stringify(join(ROOT, 'dist', 'engines', 'python', 'boot.js'))});
    bootPyodide(${JSON.stringify(INDEX)}, ${JSON.stringify(snapshotFile)}).then(({ pyodide, fromSnapshot }) => {
      process.stdout.write(JSON.stringify({ fromSnapshot, probe: pyodide.runPython(${JSON.stringify(PROBE)}) }));
    });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 60000 });
  return JSON.parse(stdout) as { fromSnapshot: boolean; probe: string };
}

test('the build made a snapshot for this Pyodide, next to the engine', () => {
  expect(SNAPSHOT_FILE.endsWith(join('engines', 'python', 'pyodide-memory.snapshot'))).toBe(true);
  expect(existsSync(BUILT)).toBe(true);
});

test('a good snapshot boots an interpreter that runs Python like a cold one', async () => {
  expect(await boot(BUILT)).toEqual({ fromSnapshot: true, probe: '{"v": 3, "m": true}' });
});

test.each([
  ['missing', () => join(dir, 'none.snapshot')],
  [
    'made for another Pyodide',
    () => {
      const file = join(dir, 'other.snapshot');
      copyFileSync(BUILT, file);
      writeFileSync(metaFile(file), JSON.stringify({ pyodide: '0.0.1' }));
      return file;
    },
  ],
  [
    'corrupt',
    () => {
      const file = join(dir, 'corrupt.snapshot');
      writeFileSync(file, Buffer.alloc(1 << 20, 7));
      writeFileSync(metaFile(file), JSON.stringify({ pyodide: pyodideVersion(INDEX) }));
      return file;
    },
  ],
])(
  'a %s snapshot falls back to the cold load',
  async (_label, make) => {
    expect(await boot(make())).toEqual({ fromSnapshot: false, probe: '{"v": 3, "m": true}' });
  },
  60000,
);

test('hosts booted from one snapshot do not share the random state their first run sees', async () => {
  const hosts = await Promise.all([startPythonHost(), startPythonHost()]);
  try {
    const draws = await Promise.all(
      hosts.map((h) => resultOf(h, 'import random\nresult = [random.random() for _ in range(3)]')),
    );
    expect(hosts.every((h) => h.ready?.version.includes('from memory snapshot'))).toBe(true);
    expect(draws[0]).not.toEqual(draws[1]);
  } finally {
    for (const h of hosts) h.kill();
  }
}, 60000);
