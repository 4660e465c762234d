/**
 * Eval's source, checked before it runs: a known engine, not empty, within
 * the script size limit (as PutScript); then named for the compiled-script
 * cache by its hash, so each distinct source compiles once. Must never
 * register the source as a script, nor run it (runner.ts runs it).
 */
import { createHash } from 'node:crypto';
import { LucienError } from '../errors';
import type { EvalInput, Runnable } from './run-input';
import type { EngineRegistry } from './script-engine';

/** What Eval runs for `input`; throws INVALID_ARGUMENT for an unknown engine or an empty or oversized source. */
export function evalRunnable(
  input: Pick<EvalInput, 'engine' | 'source'>,
  engines: EngineRegistry,
  maxScriptBytes: number,
): Runnable {
  if (engines.get(input.engine) === undefined) {
    throw new LucienError(
      'INVALID_ARGUMENT',
      `unknown engine ${JSON.stringify(input.engine)}: use one of ${engines.names.join(', ')}`,
    );
  }
  if (input.source.trim() === '') throw new LucienError('INVALID_ARGUMENT', 'script source is empty');
  const bytes = Buffer.byteLength(input.source, 'utf8');
  if (bytes > maxScriptBytes)
    throw new LucienError('INVALID_ARGUMENT', `script source is ${bytes} bytes; the limit is ${maxScriptBytes}`);
  const hash = createHash('sha256').update(input.source).digest('hex').slice(0, 32);
  return { name: 'eval', key: `eval@${input.engine}:${hash}`, engine: input.engine, source: input.source };
}
