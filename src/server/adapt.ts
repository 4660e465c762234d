/**
 * The adapter between grpc-js and our async handlers. grpc-js ignores the
 * promise a handler returns, so a rejected handler would leave the client
 * waiting for its deadline; here every handler is awaited, authorized first,
 * timed, and its error mapped once (status.ts). Handlers never see grpc-js
 * callbacks and never build statuses themselves.
 */
import type * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { Authenticator, Principal, Role } from './auth';
import { toServiceError } from './status';

export interface EdgeContext {
  readonly log: Logger;
  readonly auth: Authenticator;
}

export interface CallContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly log: Logger;
  /** True once the client cancelled or its deadline passed. */
  readonly cancelled: () => boolean;
}

export type UnaryHandler<Req, Res> = (request: Req, call: CallContext) => Promise<Res>;

export function unary<Req, Res>(
  edge: EdgeContext,
  method: string,
  role: Role | ((request: Req) => Role),
  handler: UnaryHandler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const requestId = randomUUID();
    const started = process.hrtime.bigint();
    const log = edge.log.child({ method, requestId });
    void (async () => {
      try {
        const needed = typeof role === 'function' ? role(call.request) : role;
        const principal = edge.auth.authorize(call.metadata, needed);
        const response = await handler(call.request, { requestId, principal, log, cancelled: () => call.cancelled });
        callback(null, response);
        if (log.debugEnabled) log.debug('ok', { ms: Number(process.hrtime.bigint() - started) / 1e6 });
      } catch (err) {
        const error = toServiceError(err, requestId, log);
        callback(error, null);
        if (log.debugEnabled) log.debug('failed', { code: error.code, details: error.details });
      }
    })();
  };
}

export type StreamHandler<Req, Res> = (request: Req, stream: grpc.ServerWritableStream<Req, Res>, call: CallContext) => Promise<void>;

/** Server-streaming calls: same authorization and error mapping; the handler owns the stream until it resolves. */
export function serverStream<Req, Res>(edge: EdgeContext, method: string, role: Role, handler: StreamHandler<Req, Res>): grpc.handleServerStreamingCall<Req, Res> {
  return (stream) => {
    const requestId = randomUUID();
    const log = edge.log.child({ method, requestId });
    void (async () => {
      try {
        const principal = edge.auth.authorize(stream.metadata, role);
        await handler(stream.request, stream, { requestId, principal, log, cancelled: () => stream.cancelled });
        if (!stream.cancelled) stream.end();
      } catch (err) {
        if (!stream.cancelled) stream.emit('error', toServiceError(err, requestId, log));
      }
    })();
  };
}
