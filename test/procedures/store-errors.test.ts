/**
 * A store failure during a script's bridge call (here: etcd killed under a
 * running server) is the run's error: UNAVAILABLE, retryable, nothing
 * committed — even if the script catches what it was told and carries on —
 * and the engine host stays in service (same process, serving the next run).
 */
import * as grpc from '@grpc/grpc-js';
import { connect, errorCode, failure, type TestClient } from '../helpers/client';
import { type RunningEtcd, startEtcd } from '../helpers/etcd';
import { enginePids } from '../helpers/hosts';
import { type RunningServer, startServer } from '../helpers/server';

let etcd: RunningEtcd;
let server: RunningServer;
let client: TestClient;

const SCRIPTS = {
  javascript: {
    read: "result = buckets.getBucket('b').get('k')",
    stubborn: "const b = buckets.getBucket('b'); try { b.get('k2'); } catch (e) { } b.put('after', {x: 1}); result = 2",
    one: 'result = 1',
  },
  python: {
    read: "result = buckets.getBucket('b').get('k')",
    stubborn:
      "b = buckets.getBucket('b')\ntry:\n    b.get('k2')\nexcept LucienError:\n    pass\nb.put('after', {'x': 1})\nresult = 2",
    one: 'result = 1',
  },
};

beforeAll(async () => {
  etcd = await startEtcd();
  server = await startServer({ args: ['--backend', 'etcd', '--etcd-endpoints', etcd.endpoint] });
  client = connect(server.address);
  await client.call('Put', { bucket: 'b', key: 'k', value: '{"v":1}' });
  for (const [engine, scripts] of Object.entries(SCRIPTS)) {
    for (const [name, source] of Object.entries(scripts))
      await client.call('PutScript', { name: `${engine}_${name}`, engine, source });
  }
}, 60000);

afterAll(async () => {
  client.close();
  await server.kill();
  server.cleanup();
  await etcd.stop();
});

test('with etcd gone, a run that reads fails UNAVAILABLE (retryable), commits nothing, and its host keeps serving', async () => {
  for (const engine of ['javascript', 'python'])
    expect(JSON.parse((await client.call<{ result: string }>('Run', { name: `${engine}_read` })).result)).toEqual({
      v: 1,
    });
  const before = enginePids(server.process.pid as number)
    .map((h) => h.pid)
    .sort();
  await etcd.kill();
  for (const engine of ['javascript', 'python']) {
    for (const name of ['read', 'stubborn']) {
      // etcd's client may take its dial timeout (5 s) to give up: the run's limit must be longer, so the store's error is what ends it.
      const err = await failure(client.call('Run', { name: `${engine}_${name}`, timeout_ms: 25000 }, undefined, 30000));
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(errorCode(err)).toBe('UNAVAILABLE');
    }
  }
  expect(
    enginePids(server.process.pid as number)
      .map((h) => h.pid)
      .sort(),
  ).toEqual(before);
  // etcd back: the same hosts serve again, and the stubborn runs wrote nothing.
  await etcd.restart();
  for (const engine of ['javascript', 'python']) {
    const deadline = Date.now() + 30000;
    for (;;) {
      const answer = await client
        .call<{ result: string }>('Run', { name: `${engine}_read` })
        .catch((err: grpc.ServiceError) => err);
      if (!(answer instanceof Error)) {
        expect(JSON.parse(answer.result)).toEqual({ v: 1 });
        break;
      }
      expect(answer.code).toBe(grpc.status.UNAVAILABLE);
      if (Date.now() > deadline) throw answer;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  expect((await failure(client.call('Get', { bucket: 'b', key: 'after' }))).code).toBe(grpc.status.NOT_FOUND);
  expect(
    enginePids(server.process.pid as number)
      .map((h) => h.pid)
      .sort(),
  ).toEqual(before);
  expect(server.output()).not.toMatch(/engine host died/);
});
