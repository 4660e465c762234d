/**
 * How the server starts an engine host: the spec each engine declares for
 * itself (engines/<lang>/spec.ts) and the Node command line it becomes. The
 * engines own this, so a language's confinement (what it may read, its heap
 * and stack caps) is written next to its code. Must never import anything
 * from src/.
 */

/** How to start a host for one engine: one per language. */
export interface HostSpec {
  readonly engine: string;
  /** Absolute path of the compiled host entry (dist/engines/<lang>/host.js). */
  readonly entry: string;
  /** Files and folders the host may read (its code, its engine's runtime). */
  readonly readPaths: readonly string[];
  /** Extra V8/Node flags, e.g. --max-old-space-size. */
  readonly nodeFlags: readonly string[];
  /** How long a cold start may take before the host is given up on. */
  readonly startTimeoutMs: number;
  /** Command prefix that confines the host (e.g. ['unshare', '--net', '--']), when the system allows it. */
  readonly wrapper?: readonly string[];
}

/** The Node arguments of a host: the permission model, no code from strings, then the engine's flags and entry. */
export function hostArgs(spec: HostSpec): string[] {
  return [
    '--experimental-permission',
    // One flag per path: a comma-separated list grants nothing on Node 20.
    ...spec.readPaths.map((p) => `--allow-fs-read=${p}`),
    '--disallow-code-generation-from-strings',
    '--disable-proto=throw',
    '--no-warnings',
    ...spec.nodeFlags,
    spec.entry,
  ];
}

/** The folders and files every host needs besides its own engine folder (the loop, the wire). */
export function sharedReadPaths(enginesDir: string): string[] {
  return [`${enginesDir}/host/`, `${enginesDir}/protocol.js`, `${enginesDir}/frame.js`];
}
