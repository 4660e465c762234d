/**
 * The adapter between grpc-js and our async handlers. grpc-js ignores the
 * promise a handler returns, so a rejected handler would leave the client
 * waiting for its deadline; here every handler is awaited, authorized first,
 * timed, and its error mapped once (status.ts). Handlers never see grpc-js
 * callbacks and never build statuses themselves.
 */
import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { type Logger, lazyLogger } from '../log';
import { NO_OBSERVER, type Observer } from '../observe/observer';
import type { CancelSignal } from '../procedures/script-engine';
import type { Authenticator, Principal, Role } from './auth';
import { toServiceError } from './status';

export interface EdgeContext {
  readonly log: Logger;
  readonly auth: Authenticator;
  /** Told of every finished call and open stream (metrics); none by default. */
  readonly observer?: Observer;
  /** Told each call's authentication outcome by peer (the connection guard closes hopeless connections). */
  readonly onAuth?: (peer: string, ok: boolean) => void;
}

/** Authorizes one call and reports the outcome; only UNAUTHENTICATED counts as a failure. */
export function authorizeCall(
  edge: EdgeContext,
  call: { metadata: grpc.Metadata; getPeer(): string },
  needed: Role,
): Principal {
  if (!edge.auth.enabled || edge.onAuth === undefined) return edge.auth.authorize(call.metadata, needed);
  try {
    const principal = edge.auth.authorize(call.metadata, needed);
    edge.onAuth(call.getPeer(), true);
    return principal;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'UNAUTHENTICATED') edge.onAuth(call.getPeer(), false);
    throw err;
  }
}

const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;

export interface CallContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly log: Logger;
  /** True once the client cancelled or its deadline passed. */
  readonly cancelled: () => boolean;
  /** Aborts once the client cancelled or its deadline passed (so work done for it can stop at once). */
  readonly signal: CancelSignal;
  /** The client's deadline (ms since the epoch), if it set one. */
  readonly deadline: number | undefined;
}

/** A call's deadline as grpc-js reports it (a Date, a number, or Infinity when none). */
function deadlineOf(call: { getDeadline?(): grpc.Deadline }): number | undefined {
  // Callers other than grpc-js (the HTTP side's invoker) may have no deadline at all.
  if (typeof call.getDeadline !== 'function') return undefined;
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}

/** What CallCancelSignal reads of a call: grpc-js sets `cancelled` and emits 'cancelled' (once) when the client goes. */
interface CancellableCall {
  readonly cancelled: boolean;
  on?(event: 'cancelled', listener: () => void): unknown;
  removeListener?(event: 'cancelled', listener: () => void): unknown;
}

/**
 * The call's cancellation as a CancelSignal, read straight from the call: no
 * AbortController (a few µs and garbage per call, and grpc-js reports every
 * call "cancelled" when its stream closes, so each one would fire too).
 * A caller that is not a grpc-js call (the HTTP side's invoker) has no event:
 * its signal only answers `aborted`.
 */
class CallCancelSignal implements CancelSignal {
  constructor(private readonly call: CancellableCall) {}

  get aborted(): boolean {
    return this.call.cancelled;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.call.on?.('cancelled', listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.call.removeListener?.('cancelled', listener);
  }
}

/**
 * One call's context, every part made on first use: most calls never log,
 * and a UUID plus a winston child per call is measurable on the hot path.
 * A class, as is the signal above, not an object literal with getters and
 * closures over the call: with the literal, each call's grpc-js and HTTP/2
 * objects survived the young-generation collections. A 6–7 ms scavenge every
 * ~80 ms then promoted ~2.4 MB at c=1, against 0.5 ms and 20 KB this way
 * (`node --trace-gc-nvp`, a Get loop).
 */
class GrpcCallContext implements CallContext {
  principal: Principal = { name: 'anonymous', role: 'read' } as Principal;
  private id: string | undefined;
  private abort: CancelSignal | undefined;
  private logger: Logger | undefined;
  private isCancelled: (() => boolean) | undefined;

  constructor(
    private readonly edge: EdgeContext,
    private readonly method: string,
    private readonly call: CancellableCall,
    readonly deadline: number | undefined,
  ) {}

  get cancelled(): () => boolean {
    this.isCancelled ??= () => this.call.cancelled;
    return this.isCancelled;
  }

  get signal(): CancelSignal {
    this.abort ??= new CallCancelSignal(this.call);
    return this.abort;
  }

  get requestId(): string {
    this.id ??= randomUUID();
    return this.id;
  }

  get log(): Logger {
    this.logger ??= lazyLogger(
      () => this.edge.log.child({ method: this.method, requestId: this.requestId }),
      this.edge.log.debugEnabled,
    );
    return this.logger;
  }
}

export type UnaryHandler<Req, Res> = (request: Req, call: CallContext) => Promise<Res>;

export function unary<Req, Res>(
  edge: EdgeContext,
  method: string,
  role: Role | ((request: Req) => Role),
  handler: UnaryHandler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  const record = (edge.observer ?? NO_OBSERVER).rpc(method);
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const context = new GrpcCallContext(edge, method, call, deadlineOf(call));
    void (async () => {
      try {
        const needed = typeof role === 'function' ? role(call.request) : role;
        context.principal = authorizeCall(edge, call, needed);
        const response = await handler(call.request, context);
        callback(null, response);
        record('OK', seconds(started));
        if (edge.log.debugEnabled) context.log.debug('ok', { ms: Number(process.hrtime.bigint() - started) / 1e6 });
      } catch (err) {
        const error = toServiceError(err, context.requestId, context.log);
        callback(error, null);
        record(Status[error.code ?? Status.UNKNOWN], seconds(started));
        if (edge.log.debugEnabled) context.log.debug('failed', { code: error.code, details: error.details });
      }
    })();
  };
}

export type StreamHandler<Req, Res> = (
  request: Req,
  stream: grpc.ServerWritableStream<Req, Res>,
  call: CallContext,
) => Promise<void>;

/** Server-streaming calls: same authorization and error mapping; the handler owns the stream until it resolves. */
export function serverStream<Req, Res>(
  edge: EdgeContext,
  method: string,
  role: Role | ((request: Req) => Role),
  handler: StreamHandler<Req, Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  const observer = edge.observer ?? NO_OBSERVER;
  const record = observer.rpc(method);
  return (stream) => {
    const started = process.hrtime.bigint();
    const context = new GrpcCallContext(edge, method, stream, deadlineOf(stream));
    void (async () => {
      let code = 'OK';
      observer.streamOpened(method);
      try {
        context.principal = authorizeCall(edge, stream, typeof role === 'function' ? role(stream.request) : role);
        await handler(stream.request, stream, context);
        if (!stream.cancelled) stream.end();
        else code = 'CANCELLED';
      } catch (err) {
        if (stream.cancelled) code = 'CANCELLED';
        else {
          const error = toServiceError(err, context.requestId, context.log);
          code = Status[error.code ?? Status.UNKNOWN];
          stream.emit('error', error);
        }
      } finally {
        observer.streamClosed(method);
        record(code, seconds(started));
      }
    })();
  };
}
