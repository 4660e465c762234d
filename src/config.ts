/**
 * Configuration: one typed object, parsed and validated once at start from
 * command-line flags and LUCIEN_* environment variables (flags win), then
 * passed down. Nothing else in the server reads process.env or argv.
 * Names of the variables are part of the public contract (DESIGN §6).
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

export type BackendName = 'leveldb' | 'etcd' | 'memory';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly backend: BackendName;
  readonly dataDir: string;
  readonly etcdEndpoints: readonly string[];
  /** Deadline of one etcd call on one member before another member is tried. */
  readonly etcdAttemptTimeoutMs: number;
  /** How long an etcd call keeps retrying on other members before it fails. */
  readonly etcdFailoverMs: number;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** 'json' for machines, 'pretty' for people; 'auto' picks by whether stdout is a TTY. */
  readonly logFormat: 'json' | 'pretty' | 'auto';
  readonly scriptTimeoutMs: number;
  readonly scriptMaxTimeoutMs: number;
  /** Engine host processes per language. */
  readonly enginePool: number;
  /** Memory cap of one engine host process, in MiB. */
  readonly engineMemoryMb: number;
  /** Bytes of each engine host's read cache (0: every script read crosses to the server). */
  readonly hostCacheBytes: number;
  /** Start engine hosts in network/PID namespaces when the system allows it (off: never). */
  readonly engineNamespaces: boolean;
  /** Compiled scripts one engine host keeps (the server decides which; the rest are sent again when run). */
  readonly engineScriptCache: number;
  /** How long compiling a script may take (PutScript, warm-up) before its host is killed. */
  readonly scriptCompileTimeoutMs: number;
  /** Largest script source PutScript accepts, in UTF-8 bytes. */
  readonly maxScriptBytes: number;
  /** Distinct keys one script run may write. */
  readonly scriptMaxWrites: number;
  /** Keys one getMany or list in a script may read. */
  readonly scriptMaxReadBatch: number;
  /** Attempts before a conflicting run fails with ABORTED. */
  readonly scriptMaxAttempts: number;
  /** Attempts made optimistically before a conflicting run takes the commit gate exclusively. */
  readonly scriptOptimisticAttempts: number;
  /** Bytes of recent records LevelDB keeps in memory (0 disables the cache). */
  readonly readCacheBytes: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxResultBytes: number;
  readonly maxLogBytes: number;
  /** How many past revisions Watch can resume from. */
  readonly historyRevisions: number;
  /** fsync each commit (survives power loss, not just a process crash). */
  readonly fsync: boolean;
  readonly authFile: string | undefined;
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string | undefined } | undefined;
  /** Like Redis protected mode: refuse a non-loopback bind without auth. */
  readonly protectedMode: boolean;
  /** How long a graceful shutdown waits for in-flight calls. */
  readonly shutdownGraceMs: number;
  /** HTTP side port (metrics, health, admin page) on the same host; 0 turns it off. */
  readonly httpPort: number;
  /** Prometheus metrics (/metrics); off, events cost an empty call. */
  readonly metrics: boolean;
  /** Runs at least this long go into the slow-run log. */
  readonly slowRunMs: number;
  /** Entries the slow-run log keeps (0: none). */
  readonly slowRunLogSize: number;
  /** Defences of the gRPC edge against hostile or careless clients (issue 16). */
  readonly edge: EdgeConfig;
}

/** Limits the edge enforces on connections, streams and request shapes. */
export interface EdgeConfig {
  /** Byte budget of one Watch stream's unread events; past it the stream ends with OUT_OF_RANGE. */
  readonly watchBufferBytes: number;
  /** Open TCP connections the server accepts; more are closed at once (and logged). */
  readonly maxConnections: number;
  /** Concurrent calls (HTTP/2 streams) on one connection. */
  readonly maxStreamsPerConnection: number;
  /** A connection that has not finished TLS and the HTTP/2 preface by then is closed. */
  readonly handshakeTimeoutMs: number;
  /** A connection with no call in flight for this long is closed (GOAWAY). */
  readonly connectionIdleMs: number;
  /** The server pings a connection after this much silence; no answer in 20 s closes it. */
  readonly keepaliveMs: number;
  /** With auth on: a connection whose first calls all fail authentication is closed after this many. */
  readonly authFailuresPerConnection: number;
  /** JSON values, script arguments and results nested deeper than this are refused. */
  readonly maxJsonDepth: number;
  /** Server reflection: served to all, not served, or only to authenticated callers. */
  readonly reflection: 'on' | 'off' | 'auth';
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, string | undefined>;

/** Every option: its flag, its variable, and the default. One table, one parser. */
const OPTIONS = {
  host: { flag: 'host', env: 'LUCIEN_HOST', default: '127.0.0.1' },
  port: { flag: 'port', env: 'LUCIEN_PORT', default: '50051' },
  backend: { flag: 'backend', env: 'LUCIEN_BACKEND', default: 'leveldb' },
  dataDir: { flag: 'data-dir', env: 'LUCIEN_DATA_DIR', default: './data' },
  etcdEndpoints: { flag: 'etcd-endpoints', env: 'LUCIEN_ETCD_ENDPOINTS', default: '127.0.0.1:2379' },
  etcdAttemptTimeoutMs: { flag: 'etcd-attempt-timeout-ms', env: 'LUCIEN_ETCD_ATTEMPT_TIMEOUT_MS', default: '1000' },
  etcdFailoverMs: { flag: 'etcd-failover-ms', env: 'LUCIEN_ETCD_FAILOVER_MS', default: '5000' },
  logLevel: { flag: 'log-level', env: 'LUCIEN_LOG_LEVEL', default: 'info' },
  logFormat: { flag: 'log-format', env: 'LUCIEN_LOG_FORMAT', default: 'auto' },
  scriptTimeoutMs: { flag: 'script-timeout-ms', env: 'LUCIEN_SCRIPT_TIMEOUT_MS', default: '5000' },
  scriptMaxTimeoutMs: { flag: 'script-max-timeout-ms', env: 'LUCIEN_SCRIPT_MAX_TIMEOUT_MS', default: '60000' },
  enginePool: { flag: 'engine-pool', env: 'LUCIEN_ENGINE_POOL', default: '2' },
  engineMemoryMb: { flag: 'engine-memory-mb', env: 'LUCIEN_ENGINE_MEMORY_MB', default: '512' },
  hostCacheBytes: { flag: 'host-cache-bytes', env: 'LUCIEN_HOST_CACHE_BYTES', default: String(8 * 1024 * 1024) },
  engineNamespaces: { flag: 'engine-namespaces', env: 'LUCIEN_ENGINE_NAMESPACES', default: 'on' },
  engineScriptCache: { flag: 'engine-script-cache', env: 'LUCIEN_ENGINE_SCRIPT_CACHE', default: '256' },
  scriptCompileTimeoutMs: {
    flag: 'script-compile-timeout-ms',
    env: 'LUCIEN_SCRIPT_COMPILE_TIMEOUT_MS',
    default: '10000',
  },
  maxScriptBytes: { flag: 'max-script-bytes', env: 'LUCIEN_MAX_SCRIPT_BYTES', default: String(256 * 1024) },
  scriptMaxWrites: { flag: 'script-max-writes', env: 'LUCIEN_SCRIPT_MAX_WRITES', default: '10000' },
  scriptMaxReadBatch: { flag: 'script-max-read-batch', env: 'LUCIEN_SCRIPT_MAX_READ_BATCH', default: '1000' },
  scriptMaxAttempts: { flag: 'script-max-attempts', env: 'LUCIEN_SCRIPT_MAX_ATTEMPTS', default: '10' },
  scriptOptimisticAttempts: {
    flag: 'script-optimistic-attempts',
    env: 'LUCIEN_SCRIPT_OPTIMISTIC_ATTEMPTS',
    default: '3',
  },
  readCacheBytes: { flag: 'read-cache-bytes', env: 'LUCIEN_READ_CACHE_BYTES', default: String(64 * 1024 * 1024) },
  maxKeyBytes: { flag: 'max-key-bytes', env: 'LUCIEN_MAX_KEY_BYTES', default: '1024' },
  maxValueBytes: { flag: 'max-value-bytes', env: 'LUCIEN_MAX_VALUE_BYTES', default: String(1024 * 1024) },
  maxResultBytes: { flag: 'max-result-bytes', env: 'LUCIEN_MAX_RESULT_BYTES', default: String(4 * 1024 * 1024) },
  maxLogBytes: { flag: 'max-log-bytes', env: 'LUCIEN_MAX_LOG_BYTES', default: String(1024 * 1024) },
  historyRevisions: { flag: 'history-revisions', env: 'LUCIEN_HISTORY_REVISIONS', default: '100000' },
  fsync: { flag: 'fsync', env: 'LUCIEN_FSYNC', default: 'false' },
  authFile: { flag: 'auth-file', env: 'LUCIEN_AUTH_FILE', default: '' },
  tlsCert: { flag: 'tls-cert', env: 'LUCIEN_TLS_CERT', default: '' },
  tlsKey: { flag: 'tls-key', env: 'LUCIEN_TLS_KEY', default: '' },
  tlsCa: { flag: 'tls-ca', env: 'LUCIEN_TLS_CA', default: '' },
  protectedMode: { flag: 'protected-mode', env: 'LUCIEN_PROTECTED_MODE', default: 'on' },
  shutdownGraceMs: { flag: 'shutdown-grace-ms', env: 'LUCIEN_SHUTDOWN_GRACE_MS', default: '10000' },
  httpPort: { flag: 'http-port', env: 'LUCIEN_HTTP_PORT', default: '50052' },
  metrics: { flag: 'metrics', env: 'LUCIEN_METRICS', default: 'on' },
  slowRunMs: { flag: 'slow-run-ms', env: 'LUCIEN_SLOW_RUN_MS', default: '100' },
  slowRunLogSize: { flag: 'slow-run-log-size', env: 'LUCIEN_SLOW_RUN_LOG_SIZE', default: '128' },
  // The edge's defences (EdgeConfig).
  watchBufferBytes: { flag: 'watch-buffer-bytes', env: 'LUCIEN_WATCH_BUFFER_BYTES', default: String(4 * 1024 * 1024) },
  maxConnections: { flag: 'max-connections', env: 'LUCIEN_MAX_CONNECTIONS', default: '4096' },
  maxStreamsPerConnection: {
    flag: 'max-streams-per-connection',
    env: 'LUCIEN_MAX_STREAMS_PER_CONNECTION',
    default: '1000',
  },
  handshakeTimeoutMs: { flag: 'handshake-timeout-ms', env: 'LUCIEN_HANDSHAKE_TIMEOUT_MS', default: '5000' },
  connectionIdleMs: { flag: 'connection-idle-ms', env: 'LUCIEN_CONNECTION_IDLE_MS', default: '300000' },
  keepaliveMs: { flag: 'keepalive-ms', env: 'LUCIEN_KEEPALIVE_MS', default: '60000' },
  authFailuresPerConnection: {
    flag: 'auth-failures-per-connection',
    env: 'LUCIEN_AUTH_FAILURES_PER_CONNECTION',
    default: '5',
  },
  maxJsonDepth: { flag: 'max-json-depth', env: 'LUCIEN_MAX_JSON_DEPTH', default: '64' },
  reflection: { flag: 'reflection', env: 'LUCIEN_REFLECTION', default: 'on' },
} as const;

type OptionName = keyof typeof OPTIONS;

export const CONFIG_OPTIONS: readonly { flag: string; env: string; default: string }[] = Object.values(OPTIONS);

/** parseArgs' refusals, said the way the rest of the configuration errors are. */
function flagError(err: Error & { code?: string }): string {
  const named = /'(--?[^' <]+)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${named}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `flag ${named} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${/'([^']*)'/.exec(err.message)?.[1] ?? ''}"`;
    default:
      return err.message;
  }
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const options = Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError(flagError(err as Error & { code?: string }));
  }
  const flags = new Map<string, string>();
  for (const [name, value] of Object.entries(values)) if (typeof value === 'string') flags.set(name, value);
  return flags;
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new ConfigError(`${name} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function boolean(name: string, text: string): boolean {
  const t = text.toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(t)) return true;
  if (['0', 'false', 'off', 'no'].includes(t)) return false;
  throw new ConfigError(`${name} must be on or off, got "${text}"`);
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${text}"`);
  return text as T;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** Parses flags and environment into a complete Config, or throws ConfigError. */
export function parseConfig(argv: readonly string[], env: Raw): Config {
  const flags = parseFlags(argv);
  const raw = (name: OptionName): string => {
    const o = OPTIONS[name];
    return flags.get(o.flag) ?? env[o.env] ?? o.default;
  };
  const label = (name: OptionName): string => `--${OPTIONS[name].flag} (${OPTIONS[name].env})`;
  const int = (name: OptionName, min: number, max: number): number => integer(label(name), raw(name), min, max);

  const host = raw('host');
  if (host === '') throw new ConfigError(`${label('host')} must not be empty`);
  const tlsCert = raw('tlsCert');
  const tlsKey = raw('tlsKey');
  const tlsCa = raw('tlsCa');
  if ((tlsCert === '') !== (tlsKey === ''))
    throw new ConfigError('LUCIEN_TLS_CERT and LUCIEN_TLS_KEY must be given together');
  if (tlsCa !== '' && tlsCert === '') throw new ConfigError('LUCIEN_TLS_CA needs LUCIEN_TLS_CERT and LUCIEN_TLS_KEY');

  const config: Config = {
    host,
    port: int('port', 0, 65535),
    backend: oneOf(label('backend'), raw('backend'), ['leveldb', 'etcd', 'memory'] as const),
    dataDir: raw('dataDir'),
    etcdEndpoints: raw('etcdEndpoints')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    etcdAttemptTimeoutMs: int('etcdAttemptTimeoutMs', 50, 600_000),
    etcdFailoverMs: int('etcdFailoverMs', 0, 3_600_000),
    logLevel: oneOf(label('logLevel'), raw('logLevel'), ['error', 'warn', 'info', 'debug'] as const),
    logFormat: oneOf(label('logFormat'), raw('logFormat'), ['json', 'pretty', 'auto'] as const),
    scriptTimeoutMs: int('scriptTimeoutMs', 1, 3_600_000),
    scriptMaxTimeoutMs: int('scriptMaxTimeoutMs', 1, 3_600_000),
    enginePool: int('enginePool', 1, 64),
    engineMemoryMb: int('engineMemoryMb', 64, 16384),
    hostCacheBytes: int('hostCacheBytes', 0, 1024 * 1024 * 1024),
    engineNamespaces: boolean(label('engineNamespaces'), raw('engineNamespaces')),
    engineScriptCache: int('engineScriptCache', 1, 1_000_000),
    scriptCompileTimeoutMs: int('scriptCompileTimeoutMs', 1, 3_600_000),
    maxScriptBytes: int('maxScriptBytes', 1, 64 * 1024 * 1024),
    scriptMaxWrites: int('scriptMaxWrites', 1, 10_000_000),
    scriptMaxReadBatch: int('scriptMaxReadBatch', 1, 1_000_000),
    scriptMaxAttempts: int('scriptMaxAttempts', 1, 1000),
    scriptOptimisticAttempts: int('scriptOptimisticAttempts', 0, 1000),
    readCacheBytes: int('readCacheBytes', 0, 64 * 1024 * 1024 * 1024),
    maxKeyBytes: int('maxKeyBytes', 1, 65536),
    maxValueBytes: int('maxValueBytes', 2, 64 * 1024 * 1024),
    maxResultBytes: int('maxResultBytes', 16, 64 * 1024 * 1024),
    maxLogBytes: int('maxLogBytes', 0, 64 * 1024 * 1024),
    historyRevisions: int('historyRevisions', 1, 100_000_000),
    fsync: boolean(label('fsync'), raw('fsync')),
    authFile: raw('authFile') === '' ? undefined : raw('authFile'),
    tls: tlsCert === '' ? undefined : { cert: tlsCert, key: tlsKey, ca: tlsCa === '' ? undefined : tlsCa },
    protectedMode: boolean(label('protectedMode'), raw('protectedMode')),
    shutdownGraceMs: int('shutdownGraceMs', 0, 600_000),
    httpPort: int('httpPort', 0, 65535),
    metrics: boolean(label('metrics'), raw('metrics')),
    slowRunMs: int('slowRunMs', 0, 3_600_000),
    slowRunLogSize: int('slowRunLogSize', 0, 100_000),
    edge: {
      watchBufferBytes: int('watchBufferBytes', 64 * 1024, 1024 * 1024 * 1024),
      maxConnections: int('maxConnections', 1, 1_000_000),
      maxStreamsPerConnection: int('maxStreamsPerConnection', 1, 1_000_000),
      handshakeTimeoutMs: int('handshakeTimeoutMs', 100, 600_000),
      connectionIdleMs: int('connectionIdleMs', 1000, 86_400_000),
      keepaliveMs: int('keepaliveMs', 1000, 86_400_000),
      authFailuresPerConnection: int('authFailuresPerConnection', 1, 1000),
      maxJsonDepth: int('maxJsonDepth', 2, 10_000),
      reflection: oneOf(label('reflection'), raw('reflection'), ['on', 'off', 'auth'] as const),
    },
  };
  if (config.httpPort !== 0 && config.httpPort === config.port)
    throw new ConfigError(`${label('httpPort')} must differ from ${label('port')}`);
  if (config.scriptTimeoutMs > config.scriptMaxTimeoutMs) {
    throw new ConfigError(
      `LUCIEN_SCRIPT_TIMEOUT_MS (${config.scriptTimeoutMs}) exceeds LUCIEN_SCRIPT_MAX_TIMEOUT_MS (${config.scriptMaxTimeoutMs})`,
    );
  }
  if (config.backend === 'etcd' && config.etcdEndpoints.length === 0)
    throw new ConfigError('LUCIEN_ETCD_ENDPOINTS is empty');
  if (config.protectedMode && !isLoopback(config.host) && config.authFile === undefined) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without authentication: set LUCIEN_AUTH_FILE, ` +
        'or turn protected mode off explicitly with --protected-mode off (LUCIEN_PROTECTED_MODE=off)',
    );
  }
  return config;
}
