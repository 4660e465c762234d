/**
 * The one place where errors become gRPC statuses. A LucienError keeps its
 * message (written for clients) and sends its stable code in the
 * `lucien-error-code` trailer; script failures add their logs and line.
 * Anything else is logged with the request id and answered INTERNAL with no
 * internals (no stack, no paths, no backend messages).
 */
import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CATALOG, isLucienError } from '../errors';
import type { Logger } from '../log';

export const ERROR_CODE_TRAILER = 'lucien-error-code';
export const SCRIPT_LOGS_TRAILER = 'lucien-script-logs';
export const SCRIPT_LINE_TRAILER = 'lucien-script-line';
export const REQUEST_ID_TRAILER = 'lucien-request-id';
export const RESUME_REVISION_TRAILER = 'lucien-resume-revision';

/** Trailers must stay well under grpc's 8 KiB metadata limit. */
const MAX_LOGS_TRAILER_BYTES = 4096;

/** JSON with every non-ASCII character escaped: plain metadata values must be printable ASCII. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The logs as a JSON array, keeping the last lines that fit in a trailer. */
function logsTrailer(logs: readonly string[]): string {
  const whole = asciiJson(logs);
  if (whole.length <= MAX_LOGS_TRAILER_BYTES) return whole;
  const kept: string[] = [];
  let size = 64;
  for (let i = logs.length - 1; i >= 0; i--) {
    const line = (logs[i] as string).slice(0, 512);
    size += asciiJson(line).length + 1;
    if (size > MAX_LOGS_TRAILER_BYTES) break;
    kept.unshift(line);
  }
  return asciiJson([`[${logs.length - kept.length} earlier lines omitted]`, ...kept]);
}

export function toServiceError(err: unknown, requestId: string, log: Logger): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(REQUEST_ID_TRAILER, requestId);
  if (isLucienError(err)) {
    const spec = ERROR_CATALOG[err.code];
    metadata.set(ERROR_CODE_TRAILER, err.code);
    if (err.details.logs !== undefined) metadata.set(SCRIPT_LOGS_TRAILER, logsTrailer(err.details.logs));
    if (err.details.line !== undefined) metadata.set(SCRIPT_LINE_TRAILER, String(err.details.line));
    if (err.details.revision !== undefined) metadata.set(RESUME_REVISION_TRAILER, String(err.details.revision));
    return { code: Status[spec.status], details: err.message, metadata };
  }
  log.error('internal error', { requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  metadata.set(ERROR_CODE_TRAILER, 'INTERNAL');
  return { code: Status.INTERNAL, details: `internal error (request id ${requestId})`, metadata };
}
