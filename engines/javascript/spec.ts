/**
 * How the server starts a JavaScript engine host: it may read only its own
 * compiled files, its heap is capped (a memory bomb kills the host, not the
 * machine), and the host realm's intrinsics are frozen as a second wall
 * behind the vm sandbox. Must never widen the read paths beyond these.
 */
import { join } from 'node:path';
import { type HostSpec, sharedReadPaths } from '../host-spec';

export interface JavaScriptHostOptions {
  /** V8 heap cap of the host process (default 256 MiB). */
  readonly maxOldSpaceMb?: number;
  /** V8 stack size in KiB; keep well under the OS thread stack (8 MiB by default). Default: V8's own (~984). */
  readonly stackSizeKb?: number;
  readonly startTimeoutMs?: number;
}

export function javascriptHostSpec(distRoot: string, options: JavaScriptHostOptions = {}): HostSpec {
  const engines = join(distRoot, 'engines');
  const flags = [
    `--max-old-space-size=${options.maxOldSpaceMb ?? 256}`,
    // A script that reaches a host-realm object (none should) finds it frozen: no prototype pollution.
    '--frozen-intrinsics',
    '--no-expose-wasm',
  ];
  if (options.stackSizeKb !== undefined) flags.push(`--stack-size=${options.stackSizeKb}`);
  return {
    engine: 'javascript',
    entry: join(engines, 'javascript', 'host.js'),
    // On Node 20 a trailing slash grants a folder and everything under it;
    // one flag per path (host-spec.ts): a comma list grants nothing.
    readPaths: [`${join(engines, 'javascript')}/`, ...sharedReadPaths(engines)],
    nodeFlags: flags,
    startTimeoutMs: options.startTimeoutMs ?? 10_000,
  };
}
