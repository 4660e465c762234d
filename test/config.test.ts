/**
 * Configuration: flags and LUCIEN_* variables of DESIGN §6, defaults,
 * precedence, and every refusal (bad numbers, contradictions, protected mode).
 */
import { ConfigError, isLoopback, parseConfig } from '../src/config';

describe('parseConfig', () => {
  test('defaults serve 127.0.0.1:50051 with LevelDB in ./data and a 5 s script timeout', () => {
    const config = parseConfig([], {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 50051,
      backend: 'leveldb',
      dataDir: './data',
      scriptTimeoutMs: 5000,
      protectedMode: true,
    });
  });

  test('LUCIEN_* variables are read and flags override them', () => {
    const env = {
      LUCIEN_PORT: '6000',
      LUCIEN_BACKEND: 'memory',
      LUCIEN_ENGINE_POOL: '3',
      LUCIEN_ETCD_ENDPOINTS: 'a:1, b:2',
      LUCIEN_LOG_LEVEL: 'debug',
    };
    const config = parseConfig(['--port', '7000', '--data-dir=/tmp/x'], env);
    expect(config).toMatchObject({
      port: 7000,
      backend: 'memory',
      enginePool: 3,
      dataDir: '/tmp/x',
      logLevel: 'debug',
    });
    expect(config.etcdEndpoints).toEqual(['a:1', 'b:2']);
  });

  test.each([
    [['--port', '70000'], {}, /between 0 and 65535/],
    [['--port', 'abc'], {}, /whole number/],
    [[], { LUCIEN_BACKEND: 'mongo' }, /one of leveldb, etcd, memory/],
    [['--nope', '1'], {}, /unknown flag --nope/],
    [['--port'], {}, /needs a value/],
    [['stray'], {}, /unexpected argument/],
    [[], { LUCIEN_SCRIPT_TIMEOUT_MS: '90000' }, /exceeds LUCIEN_SCRIPT_MAX_TIMEOUT_MS/],
    [[], { LUCIEN_TLS_CERT: '/c.pem' }, /must be given together/],
    [[], { LUCIEN_FSYNC: 'maybe' }, /on or off/],
    [['--http-port', '50051'], {}, /--http-port \(LUCIEN_HTTP_PORT\) must differ from --port/],
    [[], { LUCIEN_METRICS: 'sometimes' }, /on or off/],
    [[], { LUCIEN_SLOW_RUN_MS: '-1' }, /whole number/],
  ])('refuses %j %j', (argv, env, message) => {
    expect(() => parseConfig(argv, env)).toThrow(ConfigError);
    expect(() => parseConfig(argv, env)).toThrow(message);
  });

  test('the limits that used to be constants are options with their old defaults, and flags set them', () => {
    expect(parseConfig([], {})).toMatchObject({
      scriptMaxWrites: 10000,
      scriptMaxReadBatch: 1000,
      scriptMaxAttempts: 10,
      scriptOptimisticAttempts: 3,
      scriptCompileTimeoutMs: 10000,
      maxScriptBytes: 256 * 1024,
      readCacheBytes: 64 * 1024 * 1024,
      engineScriptCache: 256,
      engineNamespaces: true,
    });
    const env = { LUCIEN_SCRIPT_MAX_WRITES: '5', LUCIEN_READ_CACHE_BYTES: '0', LUCIEN_ENGINE_NAMESPACES: 'off' };
    expect(parseConfig(['--engine-script-cache', '7', '--max-script-bytes', '100'], env)).toMatchObject({
      scriptMaxWrites: 5,
      readCacheBytes: 0,
      engineNamespaces: false,
      engineScriptCache: 7,
      maxScriptBytes: 100,
    });
    expect(() => parseConfig(['--engine-script-cache', '0'], {})).toThrow(/LUCIEN_ENGINE_SCRIPT_CACHE/);
  });

  test('the HTTP side port defaults to 50052 with metrics on; 0 turns it off', () => {
    expect(parseConfig([], {})).toMatchObject({ httpPort: 50052, metrics: true, slowRunMs: 100, slowRunLogSize: 128 });
    expect(
      parseConfig(['--http-port', '0', '--metrics', 'off'], { LUCIEN_SLOW_RUN_MS: '5', LUCIEN_SLOW_RUN_LOG_SIZE: '0' }),
    ).toMatchObject({ httpPort: 0, metrics: false, slowRunMs: 5, slowRunLogSize: 0 });
  });

  test('protected mode refuses a non-loopback bind without auth', () => {
    expect(() => parseConfig(['--host', '0.0.0.0'], {})).toThrow(
      /refusing to listen on 0.0.0.0 without authentication/,
    );
    expect(parseConfig(['--host', '0.0.0.0', '--auth-file', '/etc/lucien/auth.json'], {}).host).toBe('0.0.0.0');
    expect(parseConfig(['--host', '0.0.0.0', '--protected-mode', 'off'], {}).protectedMode).toBe(false);
  });

  test('loopback addresses are recognised', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.org'].some(isLoopback)).toBe(false);
  });
});
