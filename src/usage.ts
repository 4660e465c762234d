/**
 * The server's --help text, made from the configuration table (config.ts):
 * every flag with its variable, its default and what it means. Options
 * without a line here still print, with flag, variable and default, so a new
 * option never goes missing from --help. Must never read argv or env.
 */
import { CONFIG_OPTIONS } from './config';

const MEANING: Record<string, string> = {
  host: 'listen address',
  port: 'listen port (0: any free port, logged)',
  backend: 'leveldb, etcd or memory',
  'data-dir': 'LevelDB directory',
  'etcd-endpoints': 'comma-separated etcd endpoints',
  'log-level': 'error, warn, info or debug',
  'log-format': 'json, pretty, or auto (pretty on a TTY)',
  'script-timeout-ms': 'default script time limit',
  'script-max-timeout-ms': "cap on a call's timeout_ms",
  'engine-pool': 'engine host processes per language',
  'engine-memory-mb': 'resident memory cap of one engine host',
  'max-key-bytes': 'key size limit (UTF-8 bytes)',
  'max-value-bytes': 'value size limit',
  'max-result-bytes': 'script result size limit',
  'max-log-bytes': 'script log size limit',
  'history-revisions': 'revisions Watch can resume from',
  fsync: 'fsync each commit (power-loss durability)',
  'auth-file': 'token file (see the README); off when empty',
  'tls-cert': 'serve TLS with this certificate (with --tls-key)',
  'tls-key': "the certificate's key",
  'tls-ca': 'require client certificates signed by this CA',
  'protected-mode': 'refuse a non-loopback bind without auth',
  'shutdown-grace-ms': 'how long SIGTERM waits for in-flight calls',
};

export function usage(): string {
  const rows = CONFIG_OPTIONS.map((o) => ({
    flag: `--${o.flag} VALUE`,
    env: o.env,
    meaning: `${MEANING[o.flag] ?? ''}${o.default === '' ? '' : ` (default ${o.default})`}`,
  }));
  const flagWidth = Math.max(...rows.map((r) => r.flag.length));
  const envWidth = Math.max(...rows.map((r) => r.env.length));
  return [
    'Usage: npm start -- [options]      (or: node dist/src/main.js [options])',
    '',
    'Serves Lucien, a key-value store with stored procedures, over gRPC.',
    'Flags override LUCIEN_* environment variables, which override the defaults.',
    '',
    'Options:',
    ...rows.map((r) => `  ${r.flag.padEnd(flagWidth)}  ${r.env.padEnd(envWidth)}  ${r.meaning}`),
    `  ${'-h, --help'.padEnd(flagWidth)}  ${''.padEnd(envWidth)}  print this help`,
    '',
    'The command-line client is `npx lucien --help`.',
    '',
  ].join('\n');
}
