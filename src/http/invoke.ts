/**
 * Calls Lucien's own gRPC handlers from HTTP: the admin API is the gRPC
 * service spoken as JSON, so it gets exactly the same authorization (roles,
 * and any per-bucket scope the handlers enforce), validation, metrics and
 * error mapping. A request is passed through the proto's own serializer and
 * deserializer, as grpc-js would, so handlers see the messages they expect.
 * Errors come back as ApiError with the Lucien error code, the script line and logs.
 */
import {
  Metadata,
  type ServiceError,
  status as Status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import { packageDefinition } from '../server/proto';
import { ERROR_CODE_TRAILER, REQUEST_ID_TRAILER, SCRIPT_LINE_TRAILER, SCRIPT_LOGS_TRAILER } from '../server/status';
import { ApiError } from './respond';

export type UnaryMethod = Exclude<keyof LucienHandlers, 'Watch'>;

const definition = packageDefinition['lucien.v1.Lucien'] as unknown as ServiceDefinition;

/** gRPC status → HTTP status, for the admin API's answers. */
const HTTP_STATUS: Partial<Record<Status, number>> = {
  [Status.INVALID_ARGUMENT]: 400,
  [Status.OUT_OF_RANGE]: 400,
  [Status.UNAUTHENTICATED]: 401,
  [Status.PERMISSION_DENIED]: 403,
  [Status.NOT_FOUND]: 404,
  [Status.ALREADY_EXISTS]: 409,
  [Status.FAILED_PRECONDITION]: 409,
  [Status.ABORTED]: 409,
  [Status.RESOURCE_EXHAUSTED]: 413,
  [Status.UNKNOWN]: 422,
  [Status.UNIMPLEMENTED]: 501,
  [Status.UNAVAILABLE]: 503,
  [Status.DEADLINE_EXCEEDED]: 504,
};

/** The message grpc-js would hand a handler for this plain object (defaults filled, oneofs named). */
export function normalize(method: keyof LucienHandlers, request: object): unknown {
  const spec = definition[method];
  if (spec === undefined) throw new ApiError(404, 'NOT_FOUND', `no method ${method}`);
  try {
    return spec.requestDeserialize(spec.requestSerialize(request));
  } catch (err) {
    throw new ApiError(400, 'INVALID_ARGUMENT', `bad ${method} request: ${(err as Error).message}`);
  }
}

export function metadataFor(authorization: string | undefined): Metadata {
  const metadata = new Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return metadata;
}

export function toApiError(err: Partial<ServiceError>): ApiError {
  const code = err.code ?? Status.UNKNOWN;
  const trailer = (name: string): string | undefined => {
    const v = err.metadata?.get(name)[0];
    return typeof v === 'string' ? v : undefined;
  };
  const line = trailer(SCRIPT_LINE_TRAILER);
  const logsText = trailer(SCRIPT_LOGS_TRAILER);
  let logs: string[] | undefined;
  try {
    logs = logsText === undefined ? undefined : (JSON.parse(logsText) as string[]);
  } catch {
    logs = undefined;
  }
  return new ApiError(HTTP_STATUS[code] ?? 500, trailer(ERROR_CODE_TRAILER) ?? Status[code], err.details ?? 'failed', {
    ...(line === undefined ? {} : { line: Number(line) }),
    ...(logs === undefined ? {} : { logs }),
    ...(trailer(REQUEST_ID_TRAILER) === undefined || code !== Status.INTERNAL
      ? {}
      : { requestId: trailer(REQUEST_ID_TRAILER) }),
  });
}

export class Invoker {
  constructor(private readonly handlers: LucienHandlers) {}

  /** Calls a unary rpc as `authorization` (the HTTP header, passed through); rejects with ApiError. */
  call<Res>(
    method: UnaryMethod,
    request: object,
    authorization: string | undefined,
    cancelled: () => boolean = () => false,
  ): Promise<Res> {
    const message = normalize(method, request);
    const handler = this.handlers[method] as unknown as handleUnaryCall<unknown, Res>;
    return new Promise((resolve, reject) => {
      const call = {
        request: message,
        metadata: metadataFor(authorization),
        get cancelled() {
          return cancelled();
        },
        getPeer: () => 'admin-http',
      };
      handler(call as unknown as Parameters<typeof handler>[0], (err, response) => {
        if (err) reject(toApiError(err));
        else resolve(response as Res);
      });
    });
  }

  get watch(): handleServerStreamingCall<unknown, unknown> {
    return this.handlers.Watch as unknown as handleServerStreamingCall<unknown, unknown>;
  }
}
