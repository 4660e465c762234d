/**
 * The client's one error type. A gRPC failure becomes a LucienClientError
 * once, here: it carries the server's stable code from the
 * `lucien-error-code` trailer (or the gRPC status name when the server sent
 * none, e.g. a connection failure), whether retrying is safe, and for script
 * failures the logs and the line. Decide by `code`, never by class.
 */
import { type Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CATALOG, type ErrorCode } from '../../src/errors';

/** Codes of the client itself (bad arguments, a closed client), never sent by a server. */
export type ClientErrorCode = 'CLIENT_INVALID_ARGUMENT' | 'CLIENT_CLOSED';

export class LucienClientError extends Error {
  override readonly name = 'LucienClientError';
  constructor(
    /** The server's code (see the README's error table), a gRPC status name, or a ClientErrorCode. */
    readonly code: ErrorCode | ClientErrorCode | string,
    message: string,
    /** The gRPC status number (undefined for client-side errors). */
    readonly grpcCode: number | undefined,
    /** Whether the same call may be retried safely (nothing was written). */
    readonly retryable: boolean,
    readonly extra: { readonly logs?: readonly string[]; readonly line?: number; readonly requestId?: string } = {},
  ) {
    super(message);
  }

  /** Lines a failed script printed before it failed (from `lucien-script-logs`). */
  get logs(): readonly string[] {
    return this.extra.logs ?? [];
  }

  /** The script line of a script failure, when the server named one. */
  get line(): number | undefined {
    return this.extra.line;
  }
}

export function isLucienClientError(err: unknown): err is LucienClientError {
  return (
    err instanceof Error &&
    (err as { name?: string }).name === 'LucienClientError' &&
    typeof (err as { code?: unknown }).code === 'string'
  );
}

/** Retryable without a server code: the call never reached a server that answered. */
const TRANSPORT_RETRYABLE = new Set<number>([Status.UNAVAILABLE]);

function first(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Turns what grpc-js rejected with into a LucienClientError (anything else passes through). */
export function fromGrpcError(err: unknown): unknown {
  const e = err as Partial<ServiceError>;
  if (typeof e?.code !== 'number') return err;
  const serverCode = first(e.metadata, 'lucien-error-code');
  const statusName = Status[e.code] ?? String(e.code);
  const spec =
    serverCode !== undefined
      ? (ERROR_CATALOG as Record<string, { retryable: boolean } | undefined>)[serverCode]
      : undefined;
  const retryable = spec !== undefined ? spec.retryable : serverCode === undefined && TRANSPORT_RETRYABLE.has(e.code);
  let logs: string[] | undefined;
  const logsText = first(e.metadata, 'lucien-script-logs');
  if (logsText !== undefined) {
    try {
      logs = JSON.parse(logsText) as string[];
    } catch {
      logs = [logsText];
    }
  }
  const lineText = first(e.metadata, 'lucien-script-line');
  const code = serverCode ?? statusName;
  return new LucienClientError(code, `${code}: ${e.details ?? e.message ?? 'failed'}`, e.code, retryable, {
    logs,
    line: lineText === undefined ? undefined : Number(lineText),
    requestId: first(e.metadata, 'lucien-request-id'),
  });
}

export function clientArgumentError(message: string): LucienClientError {
  return new LucienClientError('CLIENT_INVALID_ARGUMENT', message, undefined, false);
}
