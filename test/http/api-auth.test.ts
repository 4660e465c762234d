/**
 * The HTTP side port with an auth file: /api/ needs a bearer token with the
 * role of the rpc behind each route (401 without one, 403 when too weak,
 * and a refused write writes nothing); /metrics needs a read token;
 * /healthz is open. Writes must be JSON and same-origin; the page's files
 * are served, nothing else is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/free-port';
import { request } from '../helpers/http';
import { type RunningServer, startServer } from '../helpers/server';

jest.setTimeout(60_000);

const TOKENS = {
  read: 'http-read-token-0123456789',
  write: 'http-write-token-0123456789',
  admin: 'http-admin-token-0123456789',
};
let server: RunningServer;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lucien-http-auth-'));
  const file = join(dir, 'auth.json');
  writeFileSync(
    file,
    JSON.stringify({ tokens: Object.entries(TOKENS).map(([role, token]) => ({ name: `${role}-user`, token, role })) }),
  );
  const httpPort = await freePort();
  server = await startServer({
    args: ['--backend', 'memory', '--auth-file', file, '--http-port', String(httpPort)],
    waitForPool: false,
  });
  base = `http://127.0.0.1:${httpPort}`;
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const errorOf = (res: { json<T>(): T }) =>
  res.json<{ error: { code: string; message: string; line?: number } }>().error;

test.each([
  ['no token', undefined],
  ['an unknown token', 'not-a-token-of-this-server'],
])('anonymous API calls are refused: %s gets 401', async (_, token) => {
  for (const path of [
    'overview',
    'buckets',
    'scripts',
    'stats',
    'slow-runs',
    'whoami',
    'buckets/b/keys/k',
    'buckets/b/watch',
  ]) {
    const res = await request(`${base}/api/${path}`, { token });
    expect([path, res.status]).toEqual([path, 401]);
    expect(errorOf(res).code).toBe('UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="lucien"');
  }
  const put = await request(`${base}/api/buckets/b/keys/k`, {
    method: 'PUT',
    body: JSON.stringify({ value: '{"a":1}' }),
    token,
  });
  expect(put.status).toBe(401);
});

test('a malformed authorization header is 401', async () => {
  const res = await request(`${base}/api/overview`, { headers: { authorization: TOKENS.admin } });
  expect(res.status).toBe(401);
});

test('read may read but not write: 403 and nothing written', async () => {
  expect((await request(`${base}/api/overview`, { token: TOKENS.read })).status).toBe(200);
  const put = await request(`${base}/api/buckets/b/keys/k`, {
    method: 'PUT',
    body: JSON.stringify({ value: '{"a":1}' }),
    token: TOKENS.read,
  });
  expect(put.status).toBe(403);
  expect(errorOf(put).code).toBe('PERMISSION_DENIED');
  const get = await request(`${base}/api/buckets/b/keys/k`, { token: TOKENS.admin });
  expect([get.status, errorOf(get).code]).toEqual([404, 'NOT_FOUND']);
  const who = await request(`${base}/api/whoami`, { token: TOKENS.read });
  expect(who.json()).toEqual({ auth: true, name: 'read-user', role: 'read' });
});

test('write may write keys and run, but not register scripts or read the slow-run log', async () => {
  const put = await request(`${base}/api/buckets/b/keys/k`, {
    method: 'PUT',
    body: JSON.stringify({ value: '{"a":1}' }),
    token: TOKENS.write,
  });
  expect(put.status).toBe(200);
  const script = await request(`${base}/api/scripts/s`, {
    method: 'PUT',
    body: JSON.stringify({ engine: 'javascript', source: 'result = 1;' }),
    token: TOKENS.write,
  });
  expect([script.status, errorOf(script).code]).toEqual([403, 'PERMISSION_DENIED']);
  expect((await request(`${base}/api/slow-runs`, { token: TOKENS.write })).status).toBe(403);
  const seed = await request(`${base}/api/buckets/_scripts/keys/s`, {
    method: 'PUT',
    body: JSON.stringify({ value: '{"engine":"javascript","script":"result = 1;"}' }),
    token: TOKENS.write,
  });
  expect(seed.status).toBe(403);
});

test('admin may register scripts; a syntax error is 400 with its line; a run answers result and logs', async () => {
  const bad = await request(`${base}/api/scripts/s`, {
    method: 'PUT',
    body: JSON.stringify({ engine: 'python', source: 'x = 1\nif x\n  pass\n' }),
    token: TOKENS.admin,
  });
  expect(bad.status).toBe(400);
  expect(errorOf(bad)).toMatchObject({ code: 'SCRIPT_SYNTAX', line: 2 });
  const good = await request(`${base}/api/scripts/s`, {
    method: 'PUT',
    body: JSON.stringify({ engine: 'python', source: 'print("hi")\nresult = args\n' }),
    token: TOKENS.admin,
  });
  expect(good.status).toBe(200);
  const run = await request(`${base}/api/scripts/s/run`, {
    method: 'POST',
    body: JSON.stringify({ args: [1, 'two'] }),
    token: TOKENS.write,
  });
  expect(run.status).toBe(200);
  expect(run.json()).toMatchObject({ logs: ['hi'], attempts: 1 });
  expect(JSON.parse(run.json<{ result: string }>().result)).toEqual([1, 'two']);
  const raise = await request(`${base}/api/scripts/s/run`, {
    method: 'POST',
    body: JSON.stringify({ args: 'not json' }),
    token: TOKENS.write,
  });
  expect([raise.status, errorOf(raise).code]).toEqual([400, 'INVALID_ARGUMENT']);
  expect((await request(`${base}/api/slow-runs`, { token: TOKENS.admin })).status).toBe(200);
});

test('/metrics needs a read token; /healthz is open', async () => {
  expect((await request(`${base}/metrics`)).status).toBe(401);
  expect((await request(`${base}/metrics`, { token: 'not-a-token-of-this-server' })).status).toBe(401);
  const ok = await request(`${base}/metrics`, { token: TOKENS.read });
  expect(ok.status).toBe(200);
  expect(ok.text).toMatch(/^lucien_store_revision \d+$/m);
  const health = await request(`${base}/healthz`);
  expect([health.status, health.text]).toEqual([200, 'ok\n']);
});

test('writes must be JSON, bodies are bounded, and cross-origin requests are refused', async () => {
  const form = await request(`${base}/api/buckets/b/keys/k`, {
    method: 'PUT',
    body: 'value=x',
    headers: { 'content-type': 'text/plain' },
    token: TOKENS.write,
  });
  expect(form.status).toBe(415);
  const notJson = await request(`${base}/api/buckets/b/keys/k`, { method: 'PUT', body: '{', token: TOKENS.write });
  expect([notJson.status, errorOf(notJson).code]).toEqual([400, 'INVALID_ARGUMENT']);
  const notObject = await request(`${base}/api/buckets/b/keys/k`, {
    method: 'PUT',
    body: JSON.stringify({ value: '[1]' }),
    token: TOKENS.write,
  });
  expect([notObject.status, errorOf(notObject).code]).toEqual([400, 'INVALID_VALUE']);
  const huge = await request(`${base}/api/buckets/b/keys/k`, {
    method: 'PUT',
    body: JSON.stringify({ value: 'x'.repeat(4 * 1024 * 1024) }),
    token: TOKENS.write,
  });
  expect(huge.status).toBe(413);
  const cross = await request(`${base}/api/overview`, {
    headers: { origin: 'http://evil.example' },
    token: TOKENS.admin,
  });
  expect(cross.status).toBe(403);
});

test('unknown paths are 404 and never reach the file system', async () => {
  for (const path of ['/nope', '/../package.json', '/%2e%2e/package.json', '/page/index.html', '/api/nope']) {
    expect([path, (await request(`${base}${path}`, { token: TOKENS.admin })).status]).toEqual([path, 404]);
  }
  const page = await request(`${base}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  expect(page.text).toMatch(/<title>Lucien admin<\/title>/);
});
