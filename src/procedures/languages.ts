/**
 * The languages this server runs: one line per engine. Each line names the
 * engine's host spec (engines/<lang>/spec.ts); the pool turns it into a
 * ScriptEngine. Adding a language is one folder under engines/ and one line here.
 */
import { javascriptHostSpec } from '../../engines/javascript/spec';
import { pythonHostSpec } from '../../engines/python/spec';
import type { HostSpec } from '../../engines/host-spec';
import type { Logger } from '../log';
import { DIST_ROOT, NODE_MODULES } from '../paths';
import type { HostLoss } from '../observe/observer';
import { EngineRegistry } from './script-engine';
import { EnginePool } from './pool';

export interface EngineOptions {
  readonly poolSize: number;
  readonly memoryLimitMb: number;
  readonly compileTimeoutMs: number;
  /** Compiled scripts one host keeps. */
  readonly scriptCache: number;
  /** Command prefix that confines hosts (see confinement.ts), or none. */
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

export function createEngines(options: EngineOptions, log: Logger): EngineRegistry {
  const specs: HostSpec[] = [
    javascriptHostSpec(DIST_ROOT, { maxOldSpaceMb: options.memoryLimitMb + V8_HEAP_HEADROOM_MB }),
    pythonHostSpec(DIST_ROOT, NODE_MODULES),
  ];
  return new EngineRegistry(
    specs.map(
      (spec) =>
        new EnginePool(
          { ...spec, wrapper: options.wrapper },
          {
            size: options.poolSize,
            memoryLimitBytes: options.memoryLimitMb * 2 ** 20,
            compileTimeoutMs: options.compileTimeoutMs,
            scriptCache: options.scriptCache,
            onHostLost: options.onHostLost,
          },
          log.child({ engine: spec.engine }),
        ),
    ),
  );
}
