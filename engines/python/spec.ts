/**
 * How the server starts a Python engine host: the compiled host files and
 * Pyodide are the only things it may read, its wasm memory and JS heap are
 * capped, and a cold start gets a generous deadline (Pyodide takes ~2-4 s on
 * a busy two-core machine). Must never widen the read paths beyond these.
 */
import { join } from 'node:path';
import { type HostSpec, sharedReadPaths } from '../host-spec';

/** Pyodide's wasm memory cap, in 64 KiB pages (512 MiB). */
export const PYTHON_WASM_MAX_PAGES = 8192;

export function pythonHostSpec(distRoot: string, nodeModules: string): HostSpec {
  const engines = join(distRoot, 'engines');
  return {
    engine: 'python',
    entry: join(engines, 'python', 'host.js'),
    // A trailing slash grants the folder and everything under it on Node 20;
    // one flag per path (host-spec.ts), a comma list grants nothing.
    readPaths: [`${join(engines, 'python')}/`, ...sharedReadPaths(engines), `${join(nodeModules, 'pyodide')}/`],
    nodeFlags: [`--wasm-max-mem-pages=${PYTHON_WASM_MAX_PAGES}`, '--max-old-space-size=256'],
    startTimeoutMs: 30_000,
  };
}
