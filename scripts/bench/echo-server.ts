/**
 * The gRPC layer's own ceiling: a bare grpc-js server with default options
 * that answers lucien.v1.Lucien/Get with a fixed GetResponse of the same
 * size as the bench's values, touching no storage. Prints its port on
 * stdout. Run by the bench as a separate process.
 */
import * as grpc from '@grpc/grpc-js';
import { lucienService } from '../../src/server/proto';

const value = process.argv[2] ?? '{}';
const server = new grpc.Server();
const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
  callback({ code: grpc.status.UNIMPLEMENTED });
const handlers: grpc.UntypedServiceImplementation = {};
for (const name of Object.keys(lucienService)) handlers[name] = unimplemented;
handlers.Get = (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
  callback(null, { value, create_revision: 1, mod_revision: 1 });
server.addService(lucienService, handlers);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
