/**
 * Logging: one small interface of our own, and the only file that imports
 * winston. JSON lines when stdout is not a TTY (production), readable lines
 * on a terminal. Child loggers carry request context (method, bucket, run id).
 */
import winston from 'winston';

export type LogMeta = Record<string, unknown>;

export interface Logger {
  error(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  debug(message: string, meta?: LogMeta): void;
  child(meta: LogMeta): Logger;
  readonly debugEnabled: boolean;
}

/** `debug`: whether the level admits debug lines (fixed at start; asking winston each time costs µs per call). */
function wrap(w: winston.Logger, debug: boolean): Logger {
  return {
    error: (m, meta) => w.error(m, meta),
    warn: (m, meta) => w.warn(m, meta),
    info: (m, meta) => w.info(m, meta),
    debug: (m, meta) => w.debug(m, meta),
    child: (meta) => wrap(w.child(meta), debug),
    debugEnabled: debug,
  };
}

/**
 * A logger made on first use: most calls never log, and a winston child per
 * call is measurable on the hot path. `debugEnabled` is answered without
 * making it.
 */
export function lazyLogger(make: () => Logger, debugEnabled: boolean): Logger {
  let made: Logger | undefined;
  const get = (): Logger => (made ??= make());
  return {
    error: (m, meta) => get().error(m, meta),
    warn: (m, meta) => get().warn(m, meta),
    info: (m, meta) => get().info(m, meta),
    debug: (m, meta) => get().debug(m, meta),
    child: (meta) => lazyLogger(() => get().child(meta), debugEnabled),
    debugEnabled,
  };
}

export function createLogger(options: { level: string; format: 'json' | 'pretty' | 'auto' }): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true);
  const format = pretty
    ? winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.colorize(),
        winston.format.printf(({ timestamp, level, message, ...rest }) => {
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          return `${String(timestamp)} ${level} ${String(message)}${extra}`;
        }),
      )
    : winston.format.combine(winston.format.timestamp(), winston.format.json());
  const w = winston.createLogger({ level: options.level, format, transports: [new winston.transports.Console()] });
  return wrap(w, w.isDebugEnabled());
}

/** A logger that drops everything (unit tests). */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
  debugEnabled: false,
};
