/**
 * The edge's options (issue 16): defaults, flags and LUCIEN_* variables,
 * and refusals of values out of range.
 */
import { ConfigError, parseConfig } from '../src/config';

test('the edge options have documented defaults', () => {
  expect(parseConfig([], {}).edge).toEqual({
    watchBufferBytes: 4 * 1024 * 1024,
    maxConnections: 4096,
    maxStreamsPerConnection: 1000,
    handshakeTimeoutMs: 5000,
    connectionIdleMs: 300_000,
    keepaliveMs: 60_000,
    authFailuresPerConnection: 5,
    maxJsonDepth: 64,
    reflection: 'on',
  });
});

test('flags and LUCIEN_* variables set them, flags winning', () => {
  const env = { LUCIEN_REFLECTION: 'auth', LUCIEN_MAX_CONNECTIONS: '10', LUCIEN_WATCH_BUFFER_BYTES: '65536' };
  const edge = parseConfig(['--max-connections', '20', '--handshake-timeout-ms=750'], env).edge;
  expect(edge).toMatchObject({
    reflection: 'auth',
    maxConnections: 20,
    watchBufferBytes: 65536,
    handshakeTimeoutMs: 750,
  });
});

test.each([
  [['--reflection', 'maybe'], /--reflection \(LUCIEN_REFLECTION\) must be one of on, off, auth/],
  [['--watch-buffer-bytes', '1000'], /LUCIEN_WATCH_BUFFER_BYTES\) must be between 65536/],
  [['--max-json-depth', '1'], /LUCIEN_MAX_JSON_DEPTH\) must be between 2/],
  [['--max-connections', '0'], /LUCIEN_MAX_CONNECTIONS\) must be between 1/],
  [['--handshake-timeout-ms', 'soon'], /must be a whole number/],
])('%j is refused', (argv, message) => {
  expect(() => parseConfig(argv, {})).toThrow(ConfigError);
  expect(() => parseConfig(argv, {})).toThrow(message);
});
