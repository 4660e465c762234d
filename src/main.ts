/**
 * Entry point: the only place that reads argv and the environment. Parses
 * the configuration, starts the app, and turns SIGTERM/SIGINT into a
 * graceful shutdown (stop accepting, finish in-flight calls, close the store).
 */
import { ConfigError, parseConfig } from './config';
import { createLogger } from './log';
import { startApp } from './app';
import { usage } from './usage';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  let config;
  try {
    config = parseConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lucien: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  let app;
  try {
    app = await startApp(config, log);
  } catch (err) {
    log.error('failed to start', { error: (err as Error).message });
    process.exit(1);
  }
  let signalled = false;
  const stop = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    signalled = true;
    log.info('shutting down', { signal });
    app.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { error: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
