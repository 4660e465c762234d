/**
 * Assembles a running Lucien from a Config: auth, backend, store, engines,
 * catalog, runner, gRPC server. Order matters: the port is bound first (so
 * health can answer NOT_SERVING while engines warm), SERVING comes last, and
 * close undoes everything in reverse. close is graceful and safe to call twice.
 */
import type { Config } from './config';
import type { Logger } from './log';
import { loadAuthenticator, openAuthenticator } from './server/auth';
import { LucienServer } from './server/server';
import { ScriptCatalog, scriptKey } from './procedures/catalog';
import type { EngineRegistry } from './procedures/script-engine';
import { createEngines } from './procedures/languages';
import { ScriptRunner } from './procedures/runner';
import { networkWrapper } from './procedures/confinement';
import type { Backend } from './storage/backend';
import { createBackend } from './storage/open';
import { Store } from './storage/store';

export interface App {
  readonly port: number;
  readonly backend: Backend;
  readonly engines: EngineRegistry;
  close(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const started = Date.now();
  const auth = config.authFile === undefined ? openAuthenticator : loadAuthenticator(config.authFile);
  const backend = createBackend(config);
  await backend.open();
  const store = new Store(backend, { maxKeyBytes: config.maxKeyBytes, maxValueBytes: config.maxValueBytes });
  const wrapper = await networkWrapper(log, config.engineNamespaces);
  const engines = createEngines(
    {
      poolSize: config.enginePool,
      memoryLimitMb: config.engineMemoryMb,
      compileTimeoutMs: config.scriptCompileTimeoutMs,
      scriptCache: config.engineScriptCache,
      wrapper,
    },
    log,
  );
  const catalog = new ScriptCatalog(store, engines, config.maxScriptBytes);
  const runner = new ScriptRunner(store, catalog, engines, {
    maxWrites: config.scriptMaxWrites,
    maxReadBatch: config.scriptMaxReadBatch,
    defaultTimeoutMs: config.scriptTimeoutMs,
    maxTimeoutMs: config.scriptMaxTimeoutMs,
    maxResultBytes: config.maxResultBytes,
    maxLogBytes: config.maxLogBytes,
    maxArgsBytes: config.maxValueBytes,
    maxAttempts: config.scriptMaxAttempts,
    optimisticAttempts: config.scriptOptimisticAttempts,
    maxScriptBytes: config.maxScriptBytes,
  });
  const server = new LucienServer({ config, log, auth, store, catalog, runner });
  let port: number;
  try {
    port = await server.listen();
    log.info('listening', { address: `${config.host}:${port}` });
    const scripts = await catalog.list();
    await engines.warm(scripts.map((s) => ({ engine: s.engine, name: s.name, key: scriptKey(s), source: s.source })));
  } catch (err) {
    server.destroy();
    catalog.close();
    await engines.close();
    await backend.close();
    throw err;
  }
  server.setServing();
  log.info('serving', { address: `${config.host}:${port}`, backend: config.backend, auth: auth.enabled, tls: config.tls !== undefined, startupMs: Date.now() - started });

  let closing: Promise<void> | undefined;
  return {
    port,
    backend,
    engines,
    close() {
      closing ??= (async () => {
        await server.shutdown(config.shutdownGraceMs);
        catalog.close();
        await engines.close();
        await backend.close();
      })();
      return closing;
    },
  };
}
