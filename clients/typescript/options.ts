/**
 * The client's options: one documented input type with defaults, and one
 * function that resolves it (every field present, durations in ms) and
 * rejects contradictions. Nothing here reads the environment; the CLI does.
 */
import { clientArgumentError } from './errors';

export interface TlsOptions {
  /** PEM of the CA that signed the server's certificate (default: the system roots). */
  readonly ca?: string | Buffer;
  /** PEM of a client certificate, for servers started with --tls-ca. */
  readonly cert?: string | Buffer;
  /** PEM of the client certificate's key. */
  readonly key?: string | Buffer;
  /** Name the server's certificate must carry, when it differs from the host. */
  readonly serverName?: string;
}

export interface RetryOptions {
  /** Total attempts of a call, including the first (default 4). */
  readonly attempts?: number;
  /** First back-off, doubled each attempt, with full jitter (default 50). */
  readonly initialDelayMs?: number;
  /** Upper bound of one back-off (default 2000). */
  readonly maxDelayMs?: number;
}

export interface ClientOptions {
  /** host:port (default 127.0.0.1:50051). */
  readonly address?: string;
  /** Sent as `authorization: Bearer <token>` on every call. */
  readonly token?: string;
  /** Speak TLS (true: with the system's roots). */
  readonly tls?: boolean | TlsOptions;
  /** Deadline of each unary call unless the call says otherwise (default 30000; 0: none). */
  readonly deadlineMs?: number;
  /** Retries of retryable failures (UNAVAILABLE, CONFLICT, SCRIPT_TIMEOUT); false turns them off. */
  readonly retry?: boolean | RetryOptions;
}

/** Per call: a deadline, an abort signal and the retry switch. */
export interface CallOptions {
  /** This call's deadline in ms (0: none). */
  readonly deadlineMs?: number;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  /** false: do not retry this call. */
  readonly retry?: boolean;
}

export interface ResolvedOptions {
  readonly address: string;
  readonly token: string | undefined;
  readonly tls: TlsOptions | undefined;
  readonly deadlineMs: number;
  readonly retry: Required<RetryOptions>;
}

export const DEFAULT_ADDRESS = '127.0.0.1:50051';

export function resolveOptions(options: ClientOptions = {}): ResolvedOptions {
  const address = options.address ?? DEFAULT_ADDRESS;
  if (!/^[^\s:]+:\d+$|^\[[0-9a-fA-F:.]+\]:\d+$|^unix:/.test(address))
    throw clientArgumentError(`address must be host:port, got ${JSON.stringify(address)}`);
  if (options.token !== undefined && (options.token === '' || /\s/.test(options.token)))
    throw clientArgumentError('token must be a non-empty string without spaces');
  const deadlineMs = options.deadlineMs ?? 30_000;
  if (!Number.isInteger(deadlineMs) || deadlineMs < 0)
    throw clientArgumentError(`deadlineMs must be a non-negative integer, got ${deadlineMs}`);
  const tls = options.tls === true ? {} : options.tls === false ? undefined : options.tls;
  if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined))
    throw clientArgumentError('tls.cert and tls.key go together');
  const retryIn =
    options.retry === false
      ? { attempts: 1 }
      : options.retry === true || options.retry === undefined
        ? {}
        : options.retry;
  const retry = {
    attempts: retryIn.attempts ?? 4,
    initialDelayMs: retryIn.initialDelayMs ?? 50,
    maxDelayMs: retryIn.maxDelayMs ?? 2000,
  };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1)
    throw clientArgumentError(`retry.attempts must be an integer >= 1, got ${retry.attempts}`);
  return { address, token: options.token, tls, deadlineMs, retry };
}
