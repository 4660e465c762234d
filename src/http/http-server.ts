/**
 * The HTTP side port (LUCIEN_HTTP_PORT, same host as gRPC): /metrics for
 * Prometheus, /healthz, the admin page at / and its JSON API under /api/.
 * node:http only. Access rules, in one place:
 *   - /healthz is open (it says only whether the server is serving);
 *   - /metrics and /api/ need `authorization: Bearer <token>` when an auth
 *     file is configured: /metrics a token of role read or higher, /api/
 *     whatever role the underlying rpc needs (401 / 403 otherwise);
 *   - writes must be sent as application/json and, without auth, only from
 *     a loopback Host and a same-origin page (no cross-site or DNS-rebinding writes).
 * It must never serve a file outside the page's fixed list.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isLucienError } from '../errors';
import type { Logger } from '../log';
import type { KeyCounter } from '../observe/key-counts';
import type { Metrics } from '../observe/metrics';
import type { Authenticator } from '../server/auth';
import { type ApiRequest, apiSegments, routeApi } from './api';
import { Invoker, metadataFor } from './invoke';
import { ApiError, readJson, sendError, sendText } from './respond';
import { StaticPage } from './static-page';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';

export interface HttpSideParts {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly handlers: LucienHandlers;
  readonly keys: KeyCounter;
  /** Undefined when metrics are off: /metrics answers 404. */
  readonly metrics: Metrics | undefined;
  readonly serving: () => boolean;
  readonly maxBodyBytes: number;
}

/**
 * A refused request's unread body: read and dropped (for up to a second) so
 * the client sees the answer rather than a broken pipe, then the connection
 * is closed instead of reused.
 */
async function discardBody(req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader('connection', 'close');
  req.resume();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    req.once('end', () => (clearTimeout(timer), resolve()));
    req.once('error', () => (clearTimeout(timer), resolve()));
  });
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export class HttpSide {
  private readonly server: Server;
  private readonly page = new StaticPage();
  private readonly invoker: Invoker;
  private readonly streams = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private status: 'new' | 'listening' | 'closed' = 'new';

  constructor(private readonly parts: HttpSideParts) {
    this.invoker = new Invoker(parts.handlers);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(async (err: unknown) => {
        if (!(err instanceof ApiError))
          parts.log.error('http side: unexpected failure', {
            url: req.url,
            error: err instanceof Error ? (err.stack ?? err.message) : String(err),
          });
        if (res.headersSent) return res.destroy();
        if (!req.complete) await discardBody(req, res);
        sendError(res, err instanceof ApiError ? err : new ApiError(500, 'INTERNAL', 'internal error'));
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 120_000;
  }

  /** Binds; resolves with the port bound. Rejects (e.g. port in use) so the server does not start half-observable. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) =>
        reject(new Error(`cannot listen on http://${this.parts.host}:${this.parts.port}: ${err.message}`));
      this.server.once('error', onError);
      this.server.listen(this.parts.port, this.parts.host, () => {
        this.server.off('error', onError);
        this.status = 'listening';
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting, ends watch streams and idle connections; safe to call twice. */
  async close(): Promise<void> {
    if (this.status === 'closed') return;
    const wasListening = this.status === 'listening';
    this.status = 'closed';
    for (const res of this.streams) res.end();
    if (!wasListening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, 2000).unref();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lucien.invalid');
    const path = url.pathname;
    if (path === '/healthz') {
      const ok = this.parts.serving();
      return sendText(res, ok ? 200 : 503, ok ? 'ok\n' : 'starting or stopping\n');
    }
    if (path === '/metrics') return this.serveMetrics(req, res);
    if (path === '/api' || path.startsWith('/api/')) return this.serveApi(req, res, url);
    if ((req.method === 'GET' || req.method === 'HEAD') && this.page.serve(path, res)) return;
    throw new ApiError(404, 'NOT_FOUND', `nothing at ${path}`);
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.parts.metrics === undefined) throw new ApiError(404, 'NOT_FOUND', 'metrics are off (LUCIEN_METRICS=off)');
    this.authorize(req, 'read');
    const text = await this.parts.metrics.text();
    sendText(res, 200, text, this.parts.metrics.contentType);
  }

  private async serveApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.guard(req);
    const authorization = req.headers.authorization;
    const request: ApiRequest = {
      req,
      res,
      url,
      parts: apiSegments(url.pathname),
      call: (method, message) =>
        this.invoker.call(method, message, authorization, () => res.destroyed && !res.writableFinished),
      body: () => readJson(req, this.parts.maxBodyBytes),
    };
    if (request.parts[0] === 'whoami' && request.parts.length === 1) {
      const principal = this.authorize(req, 'read');
      return sendText(
        res,
        200,
        JSON.stringify({ auth: this.parts.auth.enabled, name: principal.name, role: principal.role }),
        'application/json; charset=utf-8',
      );
    }
    await routeApi(request, {
      invoker: this.invoker,
      keys: this.parts.keys,
      authEnabled: this.parts.auth.enabled,
      maxBodyBytes: this.parts.maxBodyBytes,
      streams: this.streams,
    });
  }

  /** Checks the bearer token like the gRPC edge does; 401 / 403 as ApiError. */
  private authorize(req: IncomingMessage, role: 'read' | 'write' | 'admin') {
    try {
      return this.parts.auth.authorize(metadataFor(req.headers.authorization), role);
    } catch (err) {
      if (isLucienError(err) && err.code === 'UNAUTHENTICATED') throw new ApiError(401, err.code, err.message);
      if (isLucienError(err) && err.code === 'PERMISSION_DENIED') throw new ApiError(403, err.code, err.message);
      throw err;
    }
  }

  /**
   * Browser-borne requests a token does not protect: with no auth file, any
   * web page could otherwise script this port from the operator's browser.
   * Cross-origin requests (Origin differs from Host) are refused, and so is a
   * Host that is not loopback or the bound address (DNS rebinding).
   */
  private guard(req: IncomingMessage): void {
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`)
      throw new ApiError(403, 'PERMISSION_DENIED', 'cross-origin requests to the admin API are refused');
    if (this.parts.auth.enabled) return;
    const hostname = host.replace(/:\d+$/, '');
    const bound = this.parts.host.includes(':') ? `[${this.parts.host}]` : this.parts.host;
    if (!LOOPBACK_HOSTS.has(hostname) && hostname !== bound && bound !== '0.0.0.0' && bound !== '[::]') {
      throw new ApiError(
        403,
        'PERMISSION_DENIED',
        `unexpected Host "${host}": without an auth file the admin API answers only loopback or ${bound}`,
      );
    }
  }
}
