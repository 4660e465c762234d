/**
 * Export through a real server: every record of the chosen buckets with the
 * bucket's own keys (neighbouring buckets such as `posts.x` stay out), the
 * scripts unless excluded, all at the revision of the first chunk.
 */
import type * as grpc from '@grpc/grpc-js';
import { connect, type TestClient } from '../helpers/client';
import { type RunningServer, startServer } from '../helpers/server';

type Record = { bucket: string; key: string; value: string; create_revision: number; mod_revision: number };
type Chunk = { revision: number; records: Record[]; scripts: { name: string; engine: string; source: string }[] };

let server: RunningServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer({ args: [] });
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  server?.cleanup();
});

function exportAll(request: object): Promise<Chunk[]> {
  const stream = (client.raw as unknown as { Export(req: object): grpc.ClientReadableStream<Chunk> }).Export(request);
  const chunks: Chunk[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Chunk) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve(chunks));
  });
}

test('Export streams each bucket’s records with the bucket’s keys, and the scripts, at one revision', async () => {
  await client.call('Put', { bucket: 'posts', key: 'b/1', value: '{"n":2}' });
  await client.call('Put', { bucket: 'posts', key: 'a', value: '{"n":1}' });
  await client.call('Put', { bucket: 'posts.x', key: 'c', value: '{"n":3}' });
  await client.call('PutScript', { name: 'hello', engine: 'javascript', source: 'result = 1;' });
  const { revision } = await client.call<{ revision: number }>('Put', { bucket: 'users', key: 'u', value: '{}' });

  const chunks = await exportAll({ buckets: [] });
  expect(chunks[0]?.revision).toBe(revision);
  const records = chunks.flatMap((c) => c.records.map((r) => [r.bucket, r.key, r.value]));
  expect(records).toEqual([
    ['posts', 'a', '{"n":1}'],
    ['posts', 'b/1', '{"n":2}'],
    ['posts.x', 'c', '{"n":3}'],
    ['users', 'u', '{}'],
  ]);
  expect(chunks.flatMap((c) => c.scripts.map((s) => [s.name, s.engine, s.source]))).toEqual([
    ['hello', 'javascript', 'result = 1;'],
  ]);

  const posts = await exportAll({ buckets: ['posts'], exclude_scripts: true });
  expect(posts.flatMap((c) => c.records.map((r) => r.key))).toEqual(['a', 'b/1']);
  expect(posts.flatMap((c) => c.scripts)).toEqual([]);
});
