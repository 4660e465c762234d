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

function wrap(w: winston.Logger): Logger {
  return {
    error: (m, meta) => w.error(m, meta),
    warn: (m, meta) => w.warn(m, meta),
    info: (m, meta) => w.info(m, meta),
    debug: (m, meta) => w.debug(m, meta),
    child: (meta) => wrap(w.child(meta)),
    get debugEnabled() {
      return w.isDebugEnabled();
    },
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
  return wrap(winston.createLogger({ level: options.level, format, transports: [new winston.transports.Console()] }));
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
