/**
 * A client that knows nothing but server reflection (as grpcurl does) can
 * list the services, fetch their descriptors, build messages from them, and
 * call every key-value rpc and the health check. No .proto file is read here.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const descriptor = require('protobufjs/ext/descriptor') as {
  FileDescriptorProto: protobuf.Type;
  FileDescriptorSet: protobuf.Type;
};
import { ROOT, type RunningServer, startServer } from '../helpers/server';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ args: ['--backend', 'memory'] });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

type ReflectionResponse = {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_message: string };
};

/** Sends one reflection request on a fresh stream and returns the answer. */
async function reflect(request: object): Promise<ReflectionResponse> {
  const def = protoLoader.loadSync(
    join(ROOT, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'),
    { keepCase: true, defaults: true, oneofs: true },
  );
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(server.address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => {
      const stream = (
        client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionResponse> }
      ).ServerReflectionInfo();
      stream.on('data', (answer: ReflectionResponse) => {
        resolve(answer);
        stream.end();
      });
      stream.on('error', reject);
      stream.write(request);
    });
  } finally {
    client.close();
  }
}

async function rootFor(symbol: string): Promise<protobuf.Root> {
  const answer = await reflect({ file_containing_symbol: symbol });
  const files = answer.file_descriptor_response?.file_descriptor_proto ?? [];
  expect(files.length).toBeGreaterThan(0);
  const set = descriptor.FileDescriptorSet.create({
    file: files.map((bytes) => descriptor.FileDescriptorProto.decode(bytes)),
  });
  return (protobuf.Root as unknown as { fromDescriptor(set: protobuf.Message): protobuf.Root }).fromDescriptor(set);
}

/** Calls a unary method knowing only its descriptor, as grpcurl does. */
function caller(root: protobuf.Root, serviceName: string) {
  const service = root.lookupService(serviceName);
  const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
  return {
    call(methodName: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
      const method = service.methods[methodName];
      if (method === undefined) throw new Error(`no ${methodName} in ${serviceName}`);
      const req = root.lookupType(method.requestType);
      const res = root.lookupType(method.responseType);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          `/${serviceName}/${methodName}`,
          (value: Record<string, unknown>) => Buffer.from(req.encode(req.fromObject(value)).finish()),
          (bytes: Buffer) => res.toObject(res.decode(bytes), { longs: Number, defaults: true }),
          request,
          (err, value) => (err ? reject(err) : resolve(value as Record<string, unknown>)),
        );
      });
    },
    close: () => client.close(),
  };
}

test('reflection lists the Lucien service, health and reflection itself', async () => {
  const answer = await reflect({ list_services: '' });
  const names = (answer.list_services_response?.service ?? []).map((s) => s.name);
  expect(names).toEqual(expect.arrayContaining(['lucien.v1.Lucien', 'grpc.health.v1.Health']));
});

test('reflection describes lucien.v1.Lucien with every rpc of the contract', async () => {
  const root = await rootFor('lucien.v1.Lucien');
  const methods = Object.keys(root.lookupService('lucien.v1.Lucien').methods).sort();
  // The contract's rpcs (DESIGN §3), plus the operator toolkit's; other additions may follow.
  expect(methods).toEqual(
    expect.arrayContaining([
      'Batch',
      'BatchGet',
      'Delete',
      'DeleteScript',
      'Get',
      'GetScript',
      'List',
      'ListBuckets',
      'ListScripts',
      'Put',
      'PutScript',
      'Run',
      'Watch',
      'Export',
      'Eval',
    ]),
  );
  expect(Object.keys(root.lookupType('lucien.v1.PutRequest').fields)).toEqual([
    'bucket',
    'key',
    'value',
    'if_revision',
  ]);
});

test('every key-value rpc can be called from descriptors alone', async () => {
  const root = await rootFor('lucien.v1.Lucien');
  const lucien = caller(root, 'lucien.v1.Lucien');
  try {
    const put = await lucien.call('Put', { bucket: 'posts', key: 'post_1', value: '{"title":"Some entry"}' });
    expect(Number(put.revision)).toBeGreaterThan(0);
    const got = await lucien.call('Get', { bucket: 'posts', key: 'post_1' });
    expect(JSON.parse(got.value as string)).toEqual({ title: 'Some entry' });
    const listed = await lucien.call('List', { bucket: 'posts' });
    expect((listed.items as { key: string }[]).map((i) => i.key)).toEqual(['post_1']);
    const many = await lucien.call('BatchGet', {
      keys: [
        { bucket: 'posts', key: 'post_1' },
        { bucket: 'posts', key: 'nope' },
      ],
    });
    expect((many.entries as { found: boolean }[]).map((e) => e.found)).toEqual([true, false]);
    await lucien.call('Batch', { ops: [{ put: { bucket: 'posts', key: 'post_2', value: '{}' } }] });
    const buckets = await lucien.call('ListBuckets', {});
    expect(buckets.buckets).toContain('posts');
    const deleted = await lucien.call('Delete', { bucket: 'posts', key: 'post_2' });
    expect(deleted.deleted).toBe(true);
  } finally {
    lucien.close();
  }
});

test('the health service answers SERVING for the server and for lucien.v1.Lucien', async () => {
  const root = await rootFor('grpc.health.v1.Health');
  const health = caller(root, 'grpc.health.v1.Health');
  try {
    expect((await health.call('Check', { service: '' })).status).toBe(1);
    expect((await health.call('Check', { service: 'lucien.v1.Lucien' })).status).toBe(1);
  } finally {
    health.close();
  }
});
