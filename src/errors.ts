/**
 * The error catalog. Everything inside the server throws LucienError with one
 * of these codes; only src/server/status.ts turns a code into a gRPC status.
 * Identity is decided by `code`, never by class (errors cross processes and
 * jest module registries), see isLucienError.
 */

/** gRPC status names, as in grpc's status.proto. */
export type StatusName =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'CANCELLED'
  | 'OUT_OF_RANGE'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'UNIMPLEMENTED'
  | 'UNKNOWN'
  | 'INTERNAL';

export interface ErrorSpec {
  /** The gRPC status a client sees. */
  readonly status: StatusName;
  /** Whether the same request may simply be sent again. */
  readonly retryable: boolean;
  /** One line for the documentation. */
  readonly doc: string;
}

export const ERROR_CATALOG = {
  INVALID_BUCKET: {
    status: 'INVALID_ARGUMENT',
    retryable: false,
    doc: 'Bucket name is not 1–128 chars of [A-Za-z0-9_.-], or names a reserved `_` bucket.',
  },
  INVALID_KEY: { status: 'INVALID_ARGUMENT', retryable: false, doc: 'Key is empty or longer than the key size limit.' },
  INVALID_VALUE: {
    status: 'INVALID_ARGUMENT',
    retryable: false,
    doc: 'Value is not JSON text of an object, or exceeds the value size limit.',
  },
  INVALID_ARGUMENT: {
    status: 'INVALID_ARGUMENT',
    retryable: false,
    doc: 'Any other malformed request field (limit, page token, args, engine).',
  },
  SCRIPT_SYNTAX: {
    status: 'INVALID_ARGUMENT',
    retryable: false,
    doc: 'Script source does not compile; the message names the line.',
  },
  NOT_FOUND: { status: 'NOT_FOUND', retryable: false, doc: 'Key or script does not exist.' },
  CONDITION_FAILED: {
    status: 'FAILED_PRECONDITION',
    retryable: false,
    doc: 'An `if_revision` condition did not hold; nothing was written.',
  },
  CONFLICT: {
    status: 'ABORTED',
    retryable: true,
    doc: 'A script run kept conflicting with concurrent commits after its retries.',
  },
  COMPACTED: {
    status: 'OUT_OF_RANGE',
    retryable: false,
    doc: 'Watch start_revision is older than the retained history.',
  },
  WATCH_BEHIND: {
    status: 'OUT_OF_RANGE',
    retryable: false,
    doc: "A Watch stream's unread events passed its byte budget; the message and the `lucien-resume-revision` trailer name the start_revision to resume from.",
  },
  SCRIPT_ERROR: {
    status: 'UNKNOWN',
    retryable: false,
    doc: 'The script raised; the message carries the exception type, its message and the script line, and the logs come back in trailers.',
  },
  SCRIPT_TIMEOUT: {
    status: 'DEADLINE_EXCEEDED',
    retryable: true,
    doc: 'A script run exceeded its wall-clock time limit; nothing was written.',
  },
  SCRIPT_MEMORY: {
    status: 'RESOURCE_EXHAUSTED',
    retryable: false,
    doc: 'A script run exceeded its memory limit; nothing was written.',
  },
  SCRIPT_LIMIT: {
    status: 'RESOURCE_EXHAUSTED',
    retryable: false,
    doc: 'A script run exceeded the result, log or write-set size limit.',
  },
  CANCELLED: {
    status: 'CANCELLED',
    retryable: true,
    doc: 'The caller cancelled the call (or its deadline passed) and the run was stopped; nothing was written.',
  },
  ENGINE_LOST: {
    status: 'UNAVAILABLE',
    retryable: true,
    doc: 'The engine host running the script was killed from outside the server; nothing was written.',
  },
  ENGINE_PROTOCOL: {
    status: 'INTERNAL',
    retryable: false,
    doc: 'The engine host broke the protocol (e.g. a script escaped its sandbox) and was killed; nothing was written.',
  },
  UNAUTHENTICATED: { status: 'UNAUTHENTICATED', retryable: false, doc: 'No valid credentials were presented.' },
  PERMISSION_DENIED: { status: 'PERMISSION_DENIED', retryable: false, doc: 'The credentials do not allow this call.' },
  UNAVAILABLE: {
    status: 'UNAVAILABLE',
    retryable: true,
    doc: 'The server is starting, closing, or a backend is unreachable.',
  },
  UNIMPLEMENTED: {
    status: 'UNIMPLEMENTED',
    retryable: false,
    doc: 'The rpc is declared but not served by this build.',
  },
  INTERNAL: {
    status: 'INTERNAL',
    retryable: false,
    doc: 'An unexpected failure; details are in the server log under the request id.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Extra, client-safe facts attached to an error (script line, logs, failing key). */
export interface ErrorDetails {
  readonly line?: number;
  readonly logs?: readonly string[];
  readonly key?: string;
  /** The bucket of `key`, where a key of a bucket failed. */
  readonly bucket?: string;
  readonly attempts?: number;
  /** Where a Watch can resume (OUT_OF_RANGE): sent in the lucien-resume-revision trailer. */
  readonly revision?: number;
  /** The exception type a script raised (e.g. KeyError, PermissionDenied). */
  readonly exception?: string;
}

export class LucienError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'LucienError';
    this.code = code;
    this.details = details;
  }
}

/** True for any LucienError, whichever realm or module registry made it. */
export function isLucienError(err: unknown): err is LucienError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'LucienError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    Object.prototype.hasOwnProperty.call(ERROR_CATALOG, (err as { code: string }).code)
  );
}
