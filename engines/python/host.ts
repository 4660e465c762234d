/**
 * Entry of the Python engine host process (started by src/procedures/host-process.ts
 * with an empty environment and read access to its own files and Pyodide only).
 * Loads Pyodide while the event loop still runs, then hands the process to the
 * synchronous host loop. Must never load anything from the network or from
 * outside the folders its spec allows.
 */
import { constants } from 'node:fs';
import { runHost } from '../host/run-host';
import { PythonEngine } from './python-engine';

/**
 * Pyodide's folder: the one --allow-fs-read path that names it, so the spec
 * (spec.ts) is the single place that says where Pyodide lives.
 */
function pyodideDir(): string {
  for (const arg of process.execArgv) {
    const m = /^--allow-fs-read=(.*\/pyodide)\/?\*?$/.exec(arg);
    if (m?.[1] !== undefined) return `${m[1]}/`;
  }
  throw new Error('no --allow-fs-read path for pyodide');
}

async function main(): Promise<void> {
  // The permission model refuses process.binding(); Emscripten's NODEFS only
  // wants the fs constants from it, so answer that and nothing else.
  const binding = (name: string): unknown => {
    if (name === 'constants') return { fs: constants };
    throw new Error(`process.binding(${name}) is not available`);
  };
  Object.defineProperty(process, 'binding', { value: binding });
  const engine = await PythonEngine.load(pyodideDir());
  // Nothing past this point needs the network: take away the obvious doors in
  // case a script ever reaches JavaScript (Python's `js` is an empty object).
  for (const name of ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest']) {
    Reflect.deleteProperty(globalThis, name);
  }
  runHost(engine);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`python host failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
