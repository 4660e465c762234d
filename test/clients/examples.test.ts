/**
 * The runnable examples work against a real server, as the README promises.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory'] });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

test('examples/blog.py runs the seed session and both render_posts agree', () => {
  const run = spawnSync('/usr/bin/python3', [join(ROOT, 'examples/blog.py'), server.address], {
    encoding: 'utf8',
    timeout: 60000,
    env: { PYTHONDONTWRITEBYTECODE: '1', PATH: process.env.PATH ?? '' },
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("{'hey': 'there'}");
  expect(run.stdout).toContain("{'success': True, 'answer': 42}");
  expect(run.stdout).toContain('"name": "Bob The Guy"');
  expect(run.stdout).toContain('javascript agrees: True');
});
