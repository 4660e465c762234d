/**
 * The engine host's main loop: announce readiness, then serve compile and run
 * requests one at a time, answering a running script's bridge calls through
 * the same pipes. Runs inside a locked-down child process (empty environment,
 * Node's permission model); the server kills it on any timeout or limit, so
 * nothing here needs to be interruptible.
 */
import type { RunMessage, ToHost } from '../protocol';
import { bridgeCall, receive, send } from './channel';
import { CachedBridge } from './cached-bridge';
import type { HostBridge, HostEngine } from './host-engine';
import { HostReadCache } from './read-cache';

const CACHE_ENTRIES = 256;

const bridge: HostBridge = {
  call(request) {
    const reply = bridgeCall(request);
    if (reply === undefined) process.exit(0);
    return reply;
  },
};

function remember<C>(cache: Map<string, C>, key: string, compiled: C): void {
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, compiled);
}

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
  send({ t: 'ready', engine: engine.name, version: engine.version });
  for (;;) {
    const message: ToHost | undefined = receive();
    if (message === undefined) return;
    switch (message.t) {
      case 'compile': {
        const compiled = engine.compile(message.name, message.source);
        if (compiled.ok && message.key !== undefined) remember(cache, message.key, compiled.compiled);
        send(compiled.ok ? { t: 'compiled', id: message.id, ok: true } : { t: 'compiled', id: message.id, ok: false, error: compiled.error });
        if (engine.broken === true) process.exit(70);
        break;
      }
      case 'run': {
        // Synced before anything else, even a failing compile: the server counts this host at the run's revision.
        const cached = runBridge(message, reads);
        let compiled = cache.get(message.key);
        if (compiled === undefined) {
          if (message.source === undefined) {
            send({
              t: 'done',
              id: message.id,
              ok: false,
              error: { kind: 'error', type: 'HostError', message: 'script is not compiled in this host' },
              logs: [],
            });
            break;
          }
          const result = engine.compile(message.name, message.source);
          if (!result.ok) {
            send({ t: 'done', id: message.id, ok: false, error: result.error, logs: [] });
            break;
          }
          compiled = result.compiled;
          remember(cache, message.key, compiled);
        }
        const outcome = engine.run(compiled, message.args, cached ?? bridge, message.limits);
        const readSet = cached?.readSet();
        send(readSet === undefined ? { t: 'done', id: message.id, ...outcome } : { t: 'done', id: message.id, ...outcome, cached: readSet });
        if (engine.broken === true) process.exit(70);
        break;
      }
    }
  }
}
