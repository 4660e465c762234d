/**
 * Server reflection (so grpcurl works with no .proto at hand), served as
 * LUCIEN_REFLECTION says: to everyone (`on`), to no one (`off`: the service
 * is not registered), or only to callers with a valid token (`auth`). The
 * health service is never behind this. This file only wraps the reflection
 * package's handler; it never answers reflection requests itself.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { EdgeConfig } from '../config';
import { type EdgeContext, authorizeCall } from './adapt';
import { toServiceError } from './status';

type BidiHandler = grpc.handleBidiStreamingCall<unknown, unknown>;

export function addReflection(
  server: grpc.Server,
  definitions: protoLoader.PackageDefinition,
  mode: EdgeConfig['reflection'],
  edge: EdgeContext,
): void {
  if (mode === 'off') return;
  const reflection = new ReflectionService(definitions);
  if (mode === 'on') {
    reflection.addToServer(server);
    return;
  }
  const guarded = {
    addService(service: grpc.ServiceDefinition, implementation: Record<string, BidiHandler>): void {
      const wrapped: Record<string, BidiHandler> = {};
      for (const [name, handler] of Object.entries(implementation)) {
        wrapped[name] = (call) => {
          try {
            authorizeCall(edge, call, 'read');
          } catch (err) {
            call.emit('error', toServiceError(err, 'reflection', edge.log));
            return;
          }
          handler(call);
        };
      }
      server.addService(service, wrapped);
    },
  };
  reflection.addToServer(guarded as unknown as grpc.Server);
}
