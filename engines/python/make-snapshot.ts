/**
 * Build step (npm run build): boots Pyodide cold with the hosts' own load
 * options and writes its memory snapshot beside the compiled engine
 * (boot.ts), so hosts start in a fraction of the cold time. Writes to a temporary name and renames, so a host
 * never reads half a file; skips the work when the snapshot for this Pyodide
 * is already there.
 *
 *   node dist/engines/python/make-snapshot.js [node_modules]
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOptions, metaFile, pyodideModule, pyodideVersion, SNAPSHOT_FILE } from './boot';

const SNAPSHOT_META = metaFile(SNAPSHOT_FILE);

async function main(): Promise<void> {
  const nodeModules = process.argv[2] ?? join(__dirname, '../../../node_modules');
  const indexURL = `${join(nodeModules, 'pyodide')}/`;
  const version = pyodideVersion(indexURL);
  if (existsSync(SNAPSHOT_FILE) && existsSync(SNAPSHOT_META)) {
    const meta = JSON.parse(readFileSync(SNAPSHOT_META, 'utf8')) as { pyodide?: string };
    if (meta.pyodide === version) return;
  }
  const started = Date.now();
  const pyodide = await pyodideModule(indexURL).loadPyodide({ ...loadOptions(indexURL), _makeSnapshot: true });
  const bytes = (pyodide as unknown as { makeMemorySnapshot(): Uint8Array }).makeMemorySnapshot();
  writeFileSync(`${SNAPSHOT_FILE}.tmp`, bytes);
  renameSync(`${SNAPSHOT_FILE}.tmp`, SNAPSHOT_FILE);
  writeFileSync(
    SNAPSHOT_META,
    JSON.stringify({ pyodide: version, bytes: bytes.length, made: new Date().toISOString() }),
  );
  process.stdout.write(
    `pyodide ${version} memory snapshot: ${Math.round(bytes.length / 2 ** 20)} MiB in ${Date.now() - started} ms\n`,
  );
}

main().catch((err: unknown) => {
  // Hosts then boot cold: slower, never wrong.
  process.stderr.write(`pyodide memory snapshot not made: ${err instanceof Error ? err.message : String(err)}\n`);
});
