/**
 * The languages this server runs: one line per engine. Each line names the
 * engine's host spec (engines/<lang>/spec.ts); the pool turns it into a
 * ScriptEngine. Adding a language is one folder under engines/ and one line here.
 */
import { join } from 'node:path';
import { javascriptHostSpec } from '../../engines/javascript/spec';
import { pythonHostSpec } from '../../engines/python/spec';
import type { Logger } from '../log';
import { EngineRegistry } from './engine';
import type { HostSpec } from './host-process';
import { EnginePool } from './pool';

export interface EngineOptions {
  readonly poolSize: number;
  readonly memoryLimitMb: number;
  /** Command prefix that gives hosts no network (see sandbox.ts), or none. */
  readonly wrapper: readonly string[] | undefined;
}

/** dist/ (compiled hosts) and node_modules/, found from this file's place in dist/src/scripts. */
const DIST_ROOT = join(__dirname, '../..');
const NODE_MODULES = join(DIST_ROOT, '../node_modules');

export function createEngines(options: EngineOptions, log: Logger): EngineRegistry {
  const specs: HostSpec[] = [javascriptHostSpec(DIST_ROOT, { maxOldSpaceMb: Math.min(options.memoryLimitMb, 4096) }), pythonHostSpec(DIST_ROOT, NODE_MODULES)];
  return new EngineRegistry(
    specs.map(
      (spec) =>
        new EnginePool({ ...spec, wrapper: options.wrapper }, { size: options.poolSize, memoryLimitBytes: options.memoryLimitMb * 2 ** 20, compileTimeoutMs: 10_000 }, log.child({ engine: spec.engine })),
    ),
  );
}
