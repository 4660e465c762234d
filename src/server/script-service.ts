/**
 * Handlers of the script rpcs (PutScript, GetScript, ListScripts,
 * DeleteScript, Run, Eval): translate messages to the catalog and the runner.
 */
import type { DeleteScriptRequest__Output } from '../generated/lucien/v1/DeleteScriptRequest';
import type { DeleteScriptResponse } from '../generated/lucien/v1/DeleteScriptResponse';
import type { EvalRequest__Output } from '../generated/lucien/v1/EvalRequest';
import type { GetScriptRequest__Output } from '../generated/lucien/v1/GetScriptRequest';
import type { ListScriptsRequest__Output } from '../generated/lucien/v1/ListScriptsRequest';
import type { ListScriptsResponse } from '../generated/lucien/v1/ListScriptsResponse';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import type { PutScriptRequest__Output } from '../generated/lucien/v1/PutScriptRequest';
import type { PutScriptResponse } from '../generated/lucien/v1/PutScriptResponse';
import type { RunRequest__Output } from '../generated/lucien/v1/RunRequest';
import type { RunResponse } from '../generated/lucien/v1/RunResponse';
import type { Script as ScriptMessage } from '../generated/lucien/v1/Script';
import type { Script, ScriptCatalog } from '../procedures/catalog';
import type { RunOutput } from '../procedures/run-input';
import type { ScriptRunner } from '../procedures/runner';
import { type EdgeContext, unary } from './adapt';
import { bucketAccess } from './auth';

type ScriptHandlers = Pick<LucienHandlers, 'PutScript' | 'GetScript' | 'ListScripts' | 'DeleteScript' | 'Run' | 'Eval'>;

const toResponse = (out: RunOutput): RunResponse => ({
  result: out.result,
  logs: [...out.logs],
  revision: out.revision,
  attempts: out.attempts,
  writes: out.writes.map((w) => ({ bucket: w.bucket, key: w.key, value: w.value ?? '', deleted: w.value === null })),
});

const toMessage = (s: Script): ScriptMessage => ({
  name: s.name,
  engine: s.engine,
  source: s.source,
  description: s.description,
  revision: s.revision,
});

export function scriptHandlers(edge: EdgeContext, catalog: ScriptCatalog, runner: ScriptRunner): ScriptHandlers {
  return {
    PutScript: unary<PutScriptRequest__Output, PutScriptResponse>(edge, 'PutScript', 'admin', async (request) => {
      const ifRevision = request._if_revision === 'if_revision' ? (request.if_revision ?? 0) : undefined;
      const revision = await catalog.put({
        name: request.name,
        engine: request.engine,
        source: request.source,
        description: request.description,
        ifRevision,
      });
      return { revision };
    }),

    GetScript: unary<GetScriptRequest__Output, ScriptMessage>(edge, 'GetScript', 'read', async (request) =>
      toMessage(await catalog.get(request.name)),
    ),

    ListScripts: unary<ListScriptsRequest__Output, ListScriptsResponse>(edge, 'ListScripts', 'read', async () => ({
      scripts: (await catalog.list()).map(toMessage),
    })),

    DeleteScript: unary<DeleteScriptRequest__Output, DeleteScriptResponse>(
      edge,
      'DeleteScript',
      'admin',
      async (request) => ({
        deleted: await catalog.delete(request.name),
      }),
    ),

    // Invoker rights: any role may call Run; the script's bucket calls are checked against the caller's role and scope.
    Run: unary<RunRequest__Output, RunResponse>(edge, 'Run', 'read', async (request, call) => {
      const log = call.log.child({ script: request.name });
      const started = process.hrtime.bigint();
      const out = await runner.run(
        {
          name: request.name,
          args: request.args,
          dryRun: request.dry_run,
          timeoutMs: request.timeout_ms,
          signal: call.signal,
          callerDeadline: call.deadline,
          access: bucketAccess(call.principal),
          cancelled: call.cancelled,
        },
        log,
      );
      if (log.debugEnabled)
        log.debug('run', {
          attempts: out.attempts,
          writes: out.writes.length,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        });
      return toResponse(out);
    }),

    // Eval runs arbitrary source, so it needs what registering a script needs: admin.
    Eval: unary<EvalRequest__Output, RunResponse>(edge, 'Eval', 'admin', async (request, call) => {
      const log = call.log.child({ script: 'eval', engine: request.engine });
      const out = await runner.eval(
        {
          engine: request.engine,
          source: request.source,
          args: request.args,
          commit: request.commit,
          timeoutMs: request.timeout_ms,
          signal: call.signal,
          callerDeadline: call.deadline,
          access: bucketAccess(call.principal),
        },
        log,
      );
      if (log.debugEnabled)
        log.debug('eval', { attempts: out.attempts, writes: out.writes.length, committed: request.commit });
      return toResponse(out);
    }),
  };
}
