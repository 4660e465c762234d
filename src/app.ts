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
import { createEngines, type EngineOptions } from './procedures/languages';
import { ScriptRunner } from './procedures/runner';
import type { RunnerLimits } from './procedures/run-input';
import { InvalidationFeed } from './procedures/invalidation-feed';
import { networkWrapper } from './procedures/confinement';
import type { Backend } from './storage/backend';
import { createBackend } from './storage/open';
import { Store } from './storage/store';
import { HttpSide } from './http/http-server';
import { KeyCounter } from './observe/key-counts';
import { Metrics } from './observe/metrics';
import { Observatory } from './observe/observatory';

export interface App {
  readonly port: number;
  /** The HTTP side port bound, or undefined when it is off. */
  readonly httpPort: number | undefined;
  readonly backend: Backend;
  readonly engines: EngineRegistry;
  close(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const started = Date.now();
  const auth = config.authFile === undefined ? openAuthenticator : loadAuthenticator(config.authFile);
  const backend = createBackend(config);
  await backend.open();
  const store = new Store(backend, {
    maxKeyBytes: config.maxKeyBytes,
    maxValueBytes: config.maxValueBytes,
    maxJsonDepth: config.edge.maxJsonDepth,
  });
  const wrapper = await networkWrapper(log, config.engineNamespaces);
  const observatory = new Observatory({ slowRunMs: config.slowRunMs, slowRunLogSize: config.slowRunLogSize });
  const engines = createEngines(
    { ...engineOptions(config, wrapper), onHostLost: (e, reason) => observatory.hostLost(e, reason) },
    log,
  );
  const keys = new KeyCounter(store.space);
  // Metrics are read only through the HTTP side port: with it off, none are kept.
  const metrics = config.metrics && config.httpPort !== 0 ? new Metrics({ engines, backend, keys }) : undefined;
  if (metrics !== undefined) observatory.attach(metrics);
  const catalog = new ScriptCatalog(store, engines, config.maxScriptBytes);
  const feed = config.hostCacheBytes > 0 ? await InvalidationFeed.start(store.space) : undefined;
  const runner = new ScriptRunner(store, catalog, engines, runnerLimits(config), undefined, observatory, feed);
  const server = new LucienServer({ config, log, auth, store, catalog, runner, observer: observatory });
  const http =
    config.httpPort === 0
      ? undefined
      : new HttpSide({
          host: config.host,
          port: config.httpPort,
          log,
          auth,
          handlers: server.handlers,
          keys,
          metrics,
          serving: () => server.serving,
          maxBodyBytes: config.maxValueBytes * 2 + 1024 * 1024,
        });
  let port: number;
  let httpPort: number | undefined;
  try {
    port = await server.listen();
    httpPort = await http?.listen();
    log.info('listening', {
      address: `${config.host}:${port}`,
      http: httpPort === undefined ? 'off' : `${config.host}:${httpPort}`,
    });
    const scripts = await catalog.list();
    await engines.warm(scripts.map((s) => ({ engine: s.engine, name: s.name, key: scriptKey(s), source: s.source })));
  } catch (err) {
    await http?.close();
    server.destroy();
    catalog.close();
    runner.close();
    feed?.close();
    await engines.close();
    await backend.close();
    throw err;
  }
  server.setServing();
  log.info('serving', {
    address: `${config.host}:${port}`,
    http: httpPort === undefined ? 'off' : `${config.host}:${httpPort}`,
    backend: config.backend,
    auth: auth.enabled,
    tls: config.tls !== undefined,
    startupMs: Date.now() - started,
  });

  let closing: Promise<void> | undefined;
  return {
    port,
    httpPort,
    backend,
    engines,
    close() {
      closing ??= (async () => {
        await http?.close();
        await server.shutdown(config.shutdownGraceMs);
        catalog.close();
        await engines.close();
        runner.close();
        feed?.close();
        await backend.close();
      })();
      return closing;
    },
  };
}

/** The script runner's limits, as the configuration sets them. */
export function runnerLimits(config: Config): RunnerLimits {
  return {
    maxWrites: config.scriptMaxWrites,
    maxReadBatch: config.scriptMaxReadBatch,
    maxJsonDepth: config.edge.maxJsonDepth,
    defaultTimeoutMs: config.scriptTimeoutMs,
    maxTimeoutMs: config.scriptMaxTimeoutMs,
    maxResultBytes: config.maxResultBytes,
    maxLogBytes: config.maxLogBytes,
    maxArgsBytes: config.maxValueBytes,
    maxAttempts: config.scriptMaxAttempts,
    optimisticAttempts: config.scriptOptimisticAttempts,
    maxScriptBytes: config.maxScriptBytes,
    hostCacheBytes: config.hostCacheBytes,
  };
}

/** The engine pools' options, as the configuration sets them (`wrapper`: the hosts' confinement). */
export function engineOptions(config: Config, wrapper: EngineOptions['wrapper']): EngineOptions {
  return {
    poolSize: config.enginePool,
    memoryLimitMb: config.engineMemoryMb,
    compileTimeoutMs: config.scriptCompileTimeoutMs,
    scriptCache: config.engineScriptCache,
    wrapper,
  };
}
