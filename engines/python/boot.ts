/**
 * Booting Pyodide, one way for every caller: the load options (no network,
 * no packages, an empty frozen `js`), and the memory snapshot that makes a
 * host start in ~0.4 s instead of ~3 s. The snapshot is the interpreter's
 * memory right after a plain load with these very options, made once at
 * build time (make-snapshot.ts) next to this file; the sandbox is installed
 * on top of it in every host, exactly as after a cold load. A missing,
 * stale or unloadable snapshot only costs the cold load.
 *
 * Known difference from a cold load: state Python draws at start-up (its
 * str hash seed, the `random` module's initial state) is the same in every
 * host booted from one snapshot. Runs reseed `random` (sandbox.py); the
 * hash seed stays per build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PyodideInterface } from 'pyodide';
import type * as PyodideExports from 'pyodide';

type PyodideModule = typeof PyodideExports;
type LoadOptions = NonNullable<Parameters<PyodideModule['loadPyodide']>[0]>;

/** Where the build puts the snapshot: beside the compiled engine, inside the host's read paths. */
export const SNAPSHOT_FILE = join(__dirname, 'pyodide-memory.snapshot');
/** Beside a snapshot: which Pyodide it was made with (a snapshot only fits its own build). */
export const metaFile = (snapshotFile: string): string => `${snapshotFile}.json`;

export function pyodideModule(indexURL: string): PyodideModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Pyodide is loaded from its folder, named at run time
  return require(join(indexURL, 'pyodide.js')) as PyodideModule;
}

export function pyodideVersion(indexURL: string): string {
  return (JSON.parse(readFileSync(join(indexURL, 'package.json'), 'utf8')) as { version: string }).version;
}

export function loadOptions(indexURL: string): LoadOptions {
  const ignore = (): void => undefined;
  return {
    indexURL,
    jsglobals: Object.freeze(Object.create(null) as object),
    env: { HOME: '/home/pyodide' },
    stdin: () => null,
    stdout: ignore,
    stderr: ignore,
    packages: [],
  };
}

/** The snapshot's bytes when one was made for this Pyodide, else undefined. */
function snapshotFor(indexURL: string, snapshotFile: string): Uint8Array | undefined {
  try {
    if (!existsSync(metaFile(snapshotFile))) return undefined;
    const meta = JSON.parse(readFileSync(metaFile(snapshotFile), 'utf8')) as { pyodide?: string };
    if (meta.pyodide !== pyodideVersion(indexURL)) return undefined;
    return readFileSync(snapshotFile);
  } catch {
    return undefined;
  }
}

/** Loads Pyodide from the snapshot when there is a good one, else cold. */
export async function bootPyodide(
  indexURL: string,
  snapshotFile = SNAPSHOT_FILE,
): Promise<{ pyodide: PyodideInterface; fromSnapshot: boolean }> {
  const mod = pyodideModule(indexURL);
  const snapshot = snapshotFor(indexURL, snapshotFile);
  if (snapshot !== undefined) {
    try {
      const pyodide = await mod.loadPyodide({ ...loadOptions(indexURL), _loadSnapshot: snapshot });
      // Pyodide keeps its options; detach the 30 MiB it no longer needs so they are freed.
      structuredClone(snapshot.buffer, { transfer: [snapshot.buffer as ArrayBuffer] });
      // A snapshot that loads but cannot run is no better than none.
      if (pyodide.runPython('1 + 1') === 2) return { pyodide, fromSnapshot: true };
    } catch {
      // Fall through to the cold load.
    }
  }
  return { pyodide: await mod.loadPyodide(loadOptions(indexURL)), fromSnapshot: false };
}
