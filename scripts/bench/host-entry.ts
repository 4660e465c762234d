/**
 * Entry used only by host-profile.ts: V8 cannot write a --cpu-prof profile
 * under Node's permission model, so the profiled host runs without it; this
 * shim gives the host the one thing it reads from its --allow-fs-read flags
 * (where Pyodide lives) and then loads the real host entry.
 *
 *   node [flags] host-entry.js ENTRY [PYODIDE_DIR]
 */
const [entry, pyodide] = process.argv.splice(2, 2);
if (pyodide !== undefined) process.execArgv.push(`--allow-fs-read=${pyodide}`);
// The host entry is a path known only at run time: a dynamic require is the point of this file.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(entry as string);
