/**
 * The server side of the frame protocol against a scripted fake host (plain
 * node, the real spawn and permission flags): answers arrive in order whether
 * the handler answers at once or later, and a host that breaks the protocol
 * (a stray call, a done with a call unanswered, an unknown frame) ends its run
 * and, where it could confuse a later run, its life.
 */
import { HostExitedError } from '../../src/procedures/host-exit';
import { HostProcess } from '../../src/procedures/host-process';
import { fakeHosts } from '../helpers/fake-host';

const hosts = fakeHosts();
afterAll(() => hosts.cleanup());

const LIMITS = { maxLogBytes: 1024, maxResultBytes: 1024 };

/** A host whose run does `body` (JS, with send(text), recv(), done() and the run message `msg` in scope). */
const fakeHost = (name: string, body: string): Promise<HostProcess> =>
  HostProcess.start(hosts.spec(name, { onRun: body }));

const run = (host: HostProcess, onCall: (request: string) => unknown) =>
  host.run({ key: 'k', name: 's', source: 'x', args: '[]', limits: LIMITS }, onCall as never);

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

test('a handler that throws, or rejects (the store failed), ends the run with its error once the host answers, and the host stays in service', async () => {
  const host = await fakeHost('echo-fail', ECHO);
  try {
    await expect(
      run(host, () => {
        throw new Error('store down');
      }),
    ).rejects.toThrow('store down');
    expect(host.alive).toBe(true);
    await expect(run(host, () => ({ value: '1' }))).resolves.toMatchObject({ ok: true });
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
    await expect(
      run(host, () => new Promise((resolve) => setTimeout(() => resolve({ value: 'null' }), 50))),
    ).rejects.toThrow(/unanswered/);
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

describe('the server bounds what a host sends', () => {
  test('a frame whose header announces more than the limit kills the host before its body is read, and fails the run clearly', async () => {
    const host = await fakeHost(
      'huge',
      `const h = Buffer.alloc(4); h.writeUInt32LE(0x7fffffff, 0); writeRaw(h); recv();`,
    );
    const err = await run(host, () => ({ value: 'null' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostExitedError);
    expect((err as HostExitedError).message).toMatch(
      /broke the protocol \(frame of 2147483647 bytes exceeds the limit/,
    );
    expect((await host.exited).signal).toBe('SIGKILL');
  });

  test('a second bridge call before the first is answered kills the host (at most one frame outstanding)', async () => {
    const host = await fakeHost('pipelined', `send('c{"i":1}'); send('c{"i":2}'); recv(); recv(); done(msg, '1');`);
    const err = await run(host, () => new Promise((resolve) => setTimeout(() => resolve({ value: 'null' }), 50))).catch(
      (e: unknown) => e,
    );
    expect((err as HostExitedError).breach).toMatch(/before the previous one was answered/);
  });

  test('a message nobody asked for kills the host', async () => {
    const host = await fakeHost(
      'chatty',
      `done(msg, '1'); send(JSON.stringify({ t: 'ready', engine: 'x', version: '0' }));`,
    );
    await expect(run(host, () => ({ value: 'null' }))).resolves.toMatchObject({ ok: true });
    await host.exited;
    expect(host.breach).toMatch(/'ready' message nobody asked for/);
  });
});

describe('the server owns what a host keeps compiled', () => {
  /** A host that records what it holds: answers 'missing' for a key it lacks without source, and reports its cache in every result. */
  const KEEPER = `
    globalThis.held ??= new Set();
    for (const k of msg.drop ?? []) held.delete(k);
    if (!held.has(msg.key) && msg.source === undefined) { send(JSON.stringify({ t: 'missing', id: msg.id })); }
    else { held.add(msg.key); done(msg, JSON.stringify({ sent: msg.source !== undefined, held: [...held].sort() })); }`;
  const runKey = (host: HostProcess, key: string) =>
    host.run({ key, name: key, source: `src-${key}`, args: '[]', limits: LIMITS }, () => ({ value: 'null' }));
  const answer = async (host: HostProcess, key: string) =>
    JSON.parse(((await runKey(host, key)) as { result: string }).result) as { sent: boolean; held: string[] };

  test('the least recently used script is dropped beyond the cache size; a held one is run without its source', async () => {
    const host = await HostProcess.start(hosts.spec('keeper', { onRun: KEEPER }), { scriptCache: 2 });
    try {
      expect(await answer(host, 'a')).toEqual({ sent: true, held: ['a'] });
      expect(await answer(host, 'b')).toEqual({ sent: true, held: ['a', 'b'] });
      expect(await answer(host, 'a')).toEqual({ sent: false, held: ['a', 'b'] });
      // c evicts b (a was used more recently)
      expect(await answer(host, 'c')).toEqual({ sent: true, held: ['a', 'c'] });
      expect(host.heldScripts).toBe(2);
    } finally {
      host.kill();
    }
  });

  test('a host that says it lacks a script gets the run again, with the source, transparently', async () => {
    const forgetful = `if (msg.source === undefined) { send(JSON.stringify({ t: 'missing', id: msg.id })); } else { done(msg, JSON.stringify(msg.source)); }`;
    const host = await HostProcess.start(hosts.spec('forgetful', { onRun: forgetful }));
    try {
      await runKey(host, 'k');
      // The server believes the host holds k; the host says it does not; the run still succeeds.
      expect(await runKey(host, 'k')).toMatchObject({ ok: true, result: '"src-k"' });
      expect(host.alive).toBe(true);
    } finally {
      host.kill();
    }
  });
});
