/**
 * The engine host's main loop: announce readiness, then serve compile and run
 * requests one at a time, answering a running script's bridge calls through
 * the same pipes. Runs inside a locked-down child process (empty environment,
 * Node's permission model); the server kills it on any timeout or limit, so
 * nothing here needs to be interruptible.
 *
 * The server owns the compiled-script cache: this loop keeps exactly the keys
 * the server told it to keep and forgets the ones it is told to drop, never
 * evicting on its own. A run for a key it does not hold, sent without the
 * source, is answered `missing` and the server sends it again with the source.
 */
import type { CompiledMessage, DoneMessage, RunMessage, ToHost } from '../protocol';
import { bridgeCall, receive, send } from './channel';
import { CachedBridge } from './cached-bridge';
import type { HostBridge, HostEngine } from './host-engine';
import { HostReadCache } from './read-cache';

const bridge: HostBridge = {
  call(request) {
    const reply = bridgeCall(request);
    if (reply === undefined) process.exit(0);
    return reply;
  },
};

/** The bridge of one run: through the read cache when the server synced it, else straight to the server. */
function runBridge(message: RunMessage, reads: { cache: HostReadCache | undefined }): CachedBridge | undefined {
  const sync = message.cache;
  if (sync === undefined || sync.maxBytes <= 0) return undefined;
  reads.cache ??= new HostReadCache(sync.maxBytes);
  reads.cache.advance(sync.revision, sync.reset ? 'all' : sync.changed);
  return new CachedBridge(reads.cache, bridge, sync.maxReadBatch);
}

export function runHost<C>(engine: HostEngine<C>): void {
  const cache = new Map<string, C>();
  // Lives as long as the process, outside every script's realm; only runBridge touches it.
  const reads: { cache: HostReadCache | undefined } = { cache: undefined };
  const forget = (keys: readonly string[] | undefined): void => {
    if (keys === undefined) return;
    for (const key of keys) {
      const compiled = cache.get(key);
      if (compiled === undefined) continue;
      cache.delete(key);
      engine.discard?.(compiled);
    }
  };
  /** Answers, and exits right after if the engine can no longer be trusted (the answer says so). */
  const answer = (message: CompiledMessage | DoneMessage): void => {
    if (engine.broken === true) {
      send({ ...message, retire: true });
      process.exit(70);
    }
    send(message);
  };
  send({ t: 'ready', engine: engine.name, version: engine.version });
  for (;;) {
    const message: ToHost | undefined = receive();
    if (message === undefined) return;
    forget(message.drop);
    switch (message.t) {
      case 'compile': {
        const compiled = engine.compile(message.name, message.source);
        if (compiled.ok && message.key !== undefined) {
          forget([message.key]);
          cache.set(message.key, compiled.compiled);
        } else if (compiled.ok) {
          // Compiled only to check it (PutScript): nothing keeps it.
          engine.discard?.(compiled.compiled);
        }
        answer(
          compiled.ok
            ? { t: 'compiled', id: message.id, ok: true }
            : { t: 'compiled', id: message.id, ok: false, error: compiled.error },
        );
        break;
      }
      case 'run': {
        // Synced before anything else, even a failing compile: the server counts this host at the run's revision.
        const cached = runBridge(message, reads);
        let compiled = cache.get(message.key);
        if (compiled === undefined) {
          if (message.source === undefined) {
            send({ t: 'missing', id: message.id });
            break;
          }
          const result = engine.compile(message.name, message.source);
          if (!result.ok) {
            answer({ t: 'done', id: message.id, ok: false, error: result.error, logs: [] });
            break;
          }
          compiled = result.compiled;
          cache.set(message.key, compiled);
        }
        const outcome = engine.run(compiled, message.args, cached ?? bridge, message.limits);
        const readSet = cached?.readSet();
        answer(
          readSet === undefined
            ? { t: 'done', id: message.id, ...outcome }
            : { t: 'done', id: message.id, ...outcome, cached: readSet },
        );
        break;
      }
    }
  }
}
