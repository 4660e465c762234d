/**
 * Small HTTP helpers for the side port: JSON answers, the error body every
 * /api route uses, and reading a bounded JSON request body. Nothing here
 * knows a route; nothing here ever writes internals (stacks, paths) to a client.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What an /api route answers on failure: `{"error": {...}}` with this HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    /** A Lucien error code (src/errors.ts), or a gRPC status name where no Lucien code applies. */
    readonly code: string,
    message: string,
    readonly extra: { readonly line?: number; readonly logs?: readonly string[]; readonly requestId?: string } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  const headers: Record<string, string> = {};
  if (err.httpStatus === 401) headers['www-authenticate'] = 'Bearer realm="lucien"';
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  sendJson(res, err.httpStatus, { error: { code: err.code, message: err.message, ...err.extra } });
}

/** The request body parsed as a JSON object; 413 past maxBytes, 415 unless sent as application/json, 400 if not an object. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new ApiError(415, 'INVALID_ARGUMENT', 'send the body as content-type: application/json');
  if (Number(req.headers['content-length'] ?? 0) > maxBytes)
    throw new ApiError(413, 'INVALID_ARGUMENT', `request body exceeds ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new ApiError(413, 'INVALID_ARGUMENT', `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'INVALID_ARGUMENT', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ApiError(400, 'INVALID_ARGUMENT', 'request body must be a JSON object');
  return parsed as Record<string, unknown>;
}
