/**
 * The gRPC server: Lucien's service, grpc.health.v1 and server reflection on
 * one port, with message size limits and a lifecycle (start, graceful
 * shutdown, forced shutdown; each safe to call twice). Health reports
 * SERVING only once the store is open and the engines are warm.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { readFileSync } from 'node:fs';
import type * as http2 from 'node:http2';
import type { Config } from '../config';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import type { Logger } from '../log';
import type { Observer } from '../observe/observer';
import type { ScriptCatalog } from '../procedures/catalog';
import type { ScriptRunner } from '../procedures/runner';
import type { Store } from '../storage/store';
import type { EdgeContext } from './adapt';
import type { Authenticator } from './auth';
import { ConnectionGuard } from './connection-guard';
import { exportHandler } from './export-service';
import { kvHandlers } from './kv-service';
import { type ObservedState, observeHandlers } from './observe-service';
import { lucienService, packageDefinition } from './proto';
import { addReflection } from './reflection';
import { scriptHandlers } from './script-service';
import { WatchHub } from './watch-hub';
import { withWireEncoders } from './wire-encoders';
import { watchHandler } from './watch-service';

export const SERVICE_NAME = 'lucien.v1.Lucien';

export interface ServerParts {
  readonly config: Config;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly store: Store;
  readonly catalog: ScriptCatalog;
  readonly runner: ScriptRunner;
  /** Events of every call (metrics), and the statistics the observability rpcs read. */
  readonly observer: Observer & ObservedState;
}

/** Leaves headroom over the largest value for framing and the other fields. */
const MESSAGE_OVERHEAD = 1024 * 1024;
/** How long a keepalive ping may go unanswered before the connection is closed. */
const KEEPALIVE_TIMEOUT_MS = 20_000;
/** History changes a catching-up Watch reads per page. */
const WATCH_PAGE_CHANGES = 64;

export class LucienServer {
  readonly grpc: grpc.Server;
  readonly health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  /** The handlers grpc-js calls; the HTTP admin API calls the same ones (src/http/invoke.ts). */
  readonly handlers: LucienHandlers;
  /** The Watch fan-out; its streamCount is the number of open Watch streams. */
  readonly watchHub: WatchHub;
  /** Connection caps and deadlines; its `connections` is the number of open connections. */
  readonly connections: ConnectionGuard;
  private status: 'new' | 'serving' | 'closing' | 'closed' = 'new';

  constructor(private readonly parts: ServerParts) {
    const { config } = parts;
    const maxMessage = Math.max(config.maxValueBytes, config.maxResultBytes) * 2 + MESSAGE_OVERHEAD;
    this.grpc = new grpc.Server({
      'grpc.max_receive_message_length': maxMessage,
      'grpc.max_send_message_length': Math.max(maxMessage, 64 * 1024 * 1024),
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_concurrent_streams': config.edge.maxStreamsPerConnection,
      'grpc.max_connection_idle_ms': config.edge.connectionIdleMs,
      'grpc.keepalive_time_ms': config.edge.keepaliveMs,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      // Nothing serves channelz; left on, grpc-js keeps its counters and timestamps on every call and message.
      'grpc.enable_channelz': 0,
    });
    this.connections = new ConnectionGuard(config.edge, parts.log);
    const edge: EdgeContext = {
      log: parts.log,
      auth: parts.auth,
      observer: parts.observer,
      onAuth: (peer, ok) => this.connections.noteAuth(peer, ok),
    };
    this.watchHub = new WatchHub(parts.store.space);
    const handlers: LucienHandlers = (this.handlers = {
      ...kvHandlers(edge, parts.store, parts.catalog),
      ...scriptHandlers(edge, parts.catalog, parts.runner),
      Watch: watchHandler(edge, parts.store, this.watchHub, {
        bufferBytes: config.edge.watchBufferBytes,
        pageChanges: WATCH_PAGE_CHANGES,
      }),
      Export: exportHandler(edge, parts.store),
      ...observeHandlers(edge, parts.observer),
    });
    this.grpc.addService(withWireEncoders(lucienService), handlers);
    this.health.addToServer(this.grpc);
    const healthDefinition = protoLoader.loadSync(healthProtoPath, { keepCase: true });
    addReflection(this.grpc, { ...packageDefinition, ...healthDefinition }, config.edge.reflection, edge);
  }

  /** Binds the port; resolves with the port actually bound (useful with port 0). */
  async listen(): Promise<number> {
    const { host, port, tls } = this.parts.config;
    const credentials =
      tls === undefined
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(
            tls.ca === undefined ? null : readFileSync(tls.ca),
            [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }],
            tls.ca !== undefined,
          );
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    await this.watchHub.start();
    const bound = await new Promise<number>((resolve, reject) => {
      this.grpc.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    // grpc-js offers no public hook for raw connections; its http2 servers are in a private map.
    const servers = (
      this.grpc as unknown as { http2Servers?: Map<http2.Http2Server | http2.Http2SecureServer, unknown> }
    ).http2Servers;
    if (servers === undefined)
      throw new Error('this grpc-js version does not expose its http2 servers; connection limits cannot be applied');
    for (const server of servers.keys()) this.connections.attach(server);
    return bound;
  }

  get serving(): boolean {
    return this.status === 'serving';
  }

  setServing(): void {
    this.status = 'serving';
    this.health.setStatus('', 'SERVING');
    this.health.setStatus(SERVICE_NAME, 'SERVING');
  }

  /** Stops accepting calls and waits for in-flight ones (up to graceMs), then forces. */
  async shutdown(graceMs: number): Promise<void> {
    if (this.status === 'closing' || this.status === 'closed') return;
    this.status = 'closing';
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, graceMs);
      this.grpc.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.watchHub.stop();
    this.status = 'closed';
  }

  destroy(): void {
    this.status = 'closed';
    this.watchHub.stop();
    this.grpc.forceShutdown();
  }
}
