/**
 * The channel and the call machinery under the client: credentials (TLS,
 * token), per-call deadlines and cancellation, retries of retryable failures
 * with exponential back-off and full jitter, and the mapping of every gRPC
 * error to a LucienClientError. Knows rpc names, never message shapes.
 */
import * as grpc from '@grpc/grpc-js';
import type { LucienClient as RawClient } from '../../src/generated/lucien/v1/Lucien';
import { LucienClientError, fromGrpcError, isLucienClientError } from './errors';
import type { CallOptions, ResolvedOptions } from './options';
import { lucienProto } from './proto';

/** Rpcs that change state in a way a blind retry could repeat (a run that committed, then the connection dropped). */
const NOT_RETRIED_ON_TRANSPORT = new Set(['Run', 'Eval']);

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export function backoffMs(failures: number, options: ResolvedOptions): number {
  const cap = Math.min(options.retry.maxDelayMs, options.retry.initialDelayMs * 2 ** (failures - 1));
  return Math.random() * cap;
}

/** Whether a failure of `method` may be retried. */
export function mayRetry(method: string, err: unknown): boolean {
  if (!isLucienClientError(err) || !err.retryable) return false;
  // A server-sent retryable code (CONFLICT, SCRIPT_TIMEOUT, UNAVAILABLE) promises nothing was written.
  const fromServer = err.code !== 'UNAVAILABLE' || err.extra.requestId !== undefined;
  return fromServer || !NOT_RETRIED_ON_TRANSPORT.has(method);
}

export class Transport {
  readonly raw: RawClient;
  private closed = false;

  constructor(readonly options: ResolvedOptions) {
    const tls = options.tls;
    const credentials =
      tls === undefined
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(
            tls.ca === undefined ? null : Buffer.from(tls.ca),
            tls.key === undefined ? null : Buffer.from(tls.key),
            tls.cert === undefined ? null : Buffer.from(tls.cert),
          );
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      // Reconnect soon after a server comes back (grpc's default back-off grows to 2 minutes).
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5000,
      ...(tls?.serverName !== undefined
        ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }
        : {}),
    };
    this.raw = new lucienProto.Lucien(options.address, credentials, channelOptions) as unknown as RawClient;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.options.token !== undefined) md.set('authorization', `Bearer ${this.options.token}`);
    return md;
  }

  /** One unary rpc with the deadline spanning every attempt. */
  async unary<Req, Res>(method: string, request: Req, call: CallOptions = {}): Promise<Res> {
    this.checkOpen();
    const deadlineMs = call.deadlineMs ?? this.options.deadlineMs;
    const deadline = deadlineMs > 0 ? Date.now() + deadlineMs : undefined;
    const attempts = call.retry === false ? 1 : this.options.retry.attempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<Req, Res>(method, request, deadline, call.signal);
      } catch (err) {
        const error = fromGrpcError(err);
        if (attempt >= attempts || call.signal?.aborted === true || !mayRetry(method, error)) throw error;
        const delay = backoffMs(attempt, this.options);
        if (deadline !== undefined && Date.now() + delay >= deadline) throw error;
        await sleep(delay, call.signal);
      }
    }
  }

  private once<Req, Res>(
    method: string,
    request: Req,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      const fn = (this.raw as unknown as Record<string, unknown>)[method] as (
        req: Req,
        md: grpc.Metadata,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res: Res) => void,
      ) => grpc.ClientUnaryCall;
      const onAbort = () => unaryCall.cancel();
      const unaryCall = fn.call(
        this.raw,
        request,
        this.metadata(),
        deadline === undefined ? {} : { deadline },
        (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(res);
        },
      );
      if (signal?.aborted) unaryCall.cancel();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A server stream, cancelled when `signal` aborts. */
  stream<Req, Res>(method: string, request: Req, signal?: AbortSignal): grpc.ClientReadableStream<Res> {
    this.checkOpen();
    const fn = (this.raw as unknown as Record<string, unknown>)[method] as (
      req: Req,
      md: grpc.Metadata,
    ) => grpc.ClientReadableStream<Res>;
    const call = fn.call(this.raw, request, this.metadata());
    const onAbort = () => call.cancel();
    if (signal?.aborted) call.cancel();
    else if (signal !== undefined) {
      signal.addEventListener('abort', onAbort, { once: true });
      call.on('status', () => signal.removeEventListener('abort', onAbort));
    }
    return call;
  }

  close(): void {
    this.closed = true;
    this.raw.close();
  }

  private checkOpen(): void {
    if (this.closed)
      throw new LucienClientError('CLIENT_CLOSED', 'CLIENT_CLOSED: this client was closed', undefined, false);
  }
}
