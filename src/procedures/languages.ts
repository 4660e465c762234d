/**
 * The languages this server runs: one line per engine. Each line names the
 * engine's host spec (engines/<lang>/spec.ts); the pool turns it into a
 * ScriptEngine. Adding a language is one folder under engines/ and one line here.
 */
import { join } from 'node:path';
import { javascriptHostSpec } from '../../engines/javascript/spec';
import { pythonHostSpec } from '../../engines/python/spec';
import type { Logger } from '../log';
import type { HostLoss } from '../observe/observer';
import { EngineRegistry } from './script-engine';
import type { HostSpec } from './host-process';
import { EnginePool } from './pool';

export interface EngineOptions {
  readonly poolSize: number;
  readonly memoryLimitMb: number;
  /** Command prefix that gives hosts no network (see sandbox.ts), or none. */
  readonly wrapper: readonly string[] | undefined;
  /** Told when a host is lost and replaced (metrics). */
  readonly onHostLost?: (engine: string, reason: HostLoss) => void;
}

/**
 * V8's heap cap sits above the pool's resident-memory cap: near its own cap V8
 * spends its time in GC and a bomb would end as a timeout; above it, the
 * pool's memory watch kills the host first and the run ends as a memory error.
 */
const V8_HEAP_HEADROOM_MB = 128;

/** dist/ (compiled hosts) and node_modules/, found from this file's place in dist/src/scripts. */
const DIST_ROOT = join(__dirname, '../..');
const NODE_MODULES = join(DIST_ROOT, '../node_modules');

export function createEngines(options: EngineOptions, log: Logger): EngineRegistry {
  const specs: HostSpec[] = [javascriptHostSpec(DIST_ROOT, { maxOldSpaceMb: options.memoryLimitMb + V8_HEAP_HEADROOM_MB }), pythonHostSpec(DIST_ROOT, NODE_MODULES)];
  return new EngineRegistry(
    specs.map(
      (spec) =>
        new EnginePool({ ...spec, wrapper: options.wrapper }, { size: options.poolSize, memoryLimitBytes: options.memoryLimitMb * 2 ** 20, compileTimeoutMs: 10_000, onHostLost: options.onHostLost }, log.child({ engine: spec.engine })),
    ),
  );
}
