/**
 * A bucket's live changes as server-sent events, served by Lucien's own
 * Watch handler: the handler is given a stand-in for a grpc-js writable
 * stream that writes each WatchEvent as an SSE `change` event, and ends
 * with an `error` event carrying the same code a gRPC client would see.
 * So auth, validation, history and flow control are Watch's own.
 */
import type { ServiceError } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Invoker, metadataFor, normalize, toApiError } from './invoke';
import { sendError } from './respond';

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

class SseStream extends EventEmitter {
  cancelled = false;
  private opened = false;
  constructor(
    readonly request: unknown,
    readonly metadata: ReturnType<typeof metadataFor>,
    private readonly res: ServerResponse,
  ) {
    super();
    res.on('drain', () => this.emit('drain'));
  }

  /** Sends the headers; until then a refusal can still be a plain HTTP error. */
  open(): void {
    if (this.opened || this.res.writableEnded) return;
    this.opened = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    this.res.write(': watching\n\n');
  }

  write(event: unknown): boolean {
    this.open();
    return this.res.write(`event: change\ndata: ${JSON.stringify(event)}\n\n`);
  }

  end(): void {
    this.res.end();
  }

  getPeer(): string {
    return 'admin-http';
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit('cancelled');
  }
}

/** Streams Watch(bucket, prefix, start_revision) to `res` until the client goes away or the watch ends. */
export function serveWatch(
  invoker: Invoker,
  req: IncomingMessage,
  res: ServerResponse,
  request: { bucket: string; prefix: string; start_revision: number },
  open: Set<ServerResponse>,
): void {
  const message = normalize('Watch', request);
  open.add(res);
  const stream = new SseStream(message, metadataFor(req.headers.authorization), res);
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  const finish = () => {
    clearInterval(keepalive);
    open.delete(res);
    stream.cancel();
  };
  res.on('close', finish);
  stream.on('error', (err: Partial<ServiceError>) => {
    const e = toApiError(err);
    if (!res.headersSent) return sendError(res, e);
    res.end(`event: error\ndata: ${JSON.stringify({ code: e.code, message: e.message })}\n\n`);
  });
  invoker.watch(stream as unknown as Parameters<Invoker['watch']>[0]);
  // Watch checks the token and the request before its first await: a refusal
  // has been emitted by the time this runs, and is answered as plain HTTP above.
  setImmediate(() => stream.open());
}
