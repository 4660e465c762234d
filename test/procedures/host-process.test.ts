/**
 * The server side of the frame protocol against a scripted fake host (plain
 * node, the real spawn and permission flags): answers arrive in order whether
 * the handler answers at once or later, and a host that breaks the protocol
 * (a stray call, a done with a call unanswered, an unknown frame) ends its run
 * and, where it could confuse a later run, its life.
 */
import { HostExitedError, HostProcess } from '../../src/procedures/host-process';
import { fakeHosts } from '../helpers/fake-host';

const hosts = fakeHosts();
afterAll(() => hosts.cleanup());

const LIMITS = { maxLogBytes: 1024, maxResultBytes: 1024 };

/** A host whose run does `body` (JS, with send(text), recv(), done() and the run message `msg` in scope). */
const fakeHost = (name: string, body: string): Promise<HostProcess> => HostProcess.start(hosts.spec(name, { onRun: body }));

const run = (host: HostProcess, onCall: (request: string) => unknown) =>
  host.run({ key: 'k', name: 's', args: '[]', limits: LIMITS }, onCall as never);

const ECHO = `const answers = []; for (let i = 0; i < 3; i++) { send('c' + JSON.stringify({ i })); answers.push(recv()); } done(msg, JSON.stringify(answers));`;

test('answers reach the host in order, given at once or later, as v and e frames', async () => {
  const host = await fakeHost('echo', ECHO);
  try {
    const seen: string[] = [];
    const done = await run(host, (request) => {
      seen.push(request);
      const { i } = JSON.parse(request) as { i: number };
      if (i === 1) return new Promise((resolve) => setTimeout(() => resolve({ error: 'later' }), 20));
      return { value: `{"i":${i}}` };
    });
    expect(seen).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    expect(done).toMatchObject({ ok: true, result: JSON.stringify(['v{"i":0}', 'elater', 'v{"i":2}']) });
    expect(host.alive).toBe(true);
  } finally {
    host.kill();
  }
});

test('a handler that throws, or rejects, ends the run with its error', async () => {
  const host = await fakeHost('echo-fail', ECHO);
  try {
    await expect(run(host, () => { throw new Error('store down'); })).rejects.toThrow('store down');
  } finally {
    host.kill();
  }
  const again = await fakeHost('echo-reject', ECHO);
  try {
    await expect(run(again, () => Promise.reject(new Error('store gone')))).rejects.toThrow('store gone');
  } finally {
    again.kill();
  }
});

test('done while a call is unanswered is a protocol error', async () => {
  const host = await fakeHost('hasty', `send('c{}'); done(msg, '1');`);
  try {
    await expect(run(host, () => new Promise((resolve) => setTimeout(() => resolve({ value: 'null' }), 50)))).rejects.toThrow(/unanswered/);
  } finally {
    host.kill();
  }
});

test('a call outside any run kills the host, so it can never reach a later run', async () => {
  const host = await fakeHost('stray', `done(msg, '1'); send('c{"op":"get"}');`);
  const calls: string[] = [];
  const done = await run(host, (request) => {
    calls.push(request);
    return { value: 'null' };
  });
  expect(done).toMatchObject({ ok: true, result: '1' });
  const exit = await host.exited;
  expect(exit.signal).toBe('SIGKILL');
  expect(calls).toEqual([]);
});

test('a frame of unknown kind kills the host and fails its run', async () => {
  const host = await fakeHost('garbage', `send('x'); recv();`);
  await expect(run(host, () => ({ value: 'null' }))).rejects.toBeInstanceOf(HostExitedError);
  expect((await host.exited).signal).toBe('SIGKILL');
});
