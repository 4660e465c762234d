/**
 * Connection hygiene for the gRPC port: a cap on open connections, a deadline
 * for TLS and the HTTP/2 preface, a log line when a connection reaches its
 * cap of concurrent streams, and closing a connection whose calls keep
 * failing authentication. It attaches to the http2 servers grpc-js creates
 * (grpc-js keeps them in a private field; there is no public hook for the
 * raw socket), and only ever closes sockets: it never answers calls.
 * Idle and keepalive limits are grpc-js options (server.ts).
 */
import type * as http2 from 'node:http2';
import { isIPv6, type Socket } from 'node:net';
import type { EdgeConfig } from '../config';
import type { Logger } from '../log';

/** A connection's identity as grpc-js's getPeer() spells it. */
function peerOf(address: string | undefined, port: number | undefined): string {
  return isIPv6(address ?? '') ? `[${address}]:${port}` : `${address}:${port}`;
}

interface Tracked {
  readonly socket: Socket;
  session?: http2.ServerHttp2Session;
  handshake?: NodeJS.Timeout;
  authFailures: number;
  authenticated: boolean;
  streams: number;
  capLogged: boolean;
}

/** At most one "cap reached" warning per this many ms, whatever the load. */
const CAP_LOG_INTERVAL_MS = 10_000;
/** At most one line about connections closed for a slow handshake per this many ms (counts the rest). */
const SLOW_LOG_INTERVAL_MS = 60_000;

export class ConnectionGuard {
  private readonly byPeer = new Map<string, Tracked>();
  /** The same entries by session: a stream finds its own without reading its socket's address (a proxy, per call). */
  private readonly bySession = new WeakMap<http2.Http2Session, Tracked>();
  private lastCapLog = 0;
  private refusedSinceLog = 0;
  private lastSlowLog = 0;
  private slowSinceLog = 0;

  constructor(
    private readonly limits: Pick<
      EdgeConfig,
      'maxConnections' | 'maxStreamsPerConnection' | 'handshakeTimeoutMs' | 'authFailuresPerConnection'
    >,
    private readonly log: Logger,
  ) {}

  /** Open connections right now. */
  get connections(): number {
    return this.byPeer.size;
  }

  attach(server: http2.Http2Server | http2.Http2SecureServer): void {
    // prependListener: decide before grpc-js or http2 does anything with the socket.
    server.prependListener('connection', (socket: Socket) => this.onConnection(socket));
    server.on('session', (session: http2.ServerHttp2Session) => this.onSession(session));
    server.on('stream', (stream: http2.ServerHttp2Stream) => this.onStream(stream));
  }

  /**
   * One call's authentication outcome (adapt.ts). A connection none of whose
   * calls authenticated is closed after `authFailuresPerConnection` failures.
   */
  noteAuth(peer: string, ok: boolean): void {
    const tracked = this.byPeer.get(peer);
    if (tracked === undefined) return;
    if (ok) {
      tracked.authenticated = true;
      return;
    }
    if (tracked.authenticated) return;
    tracked.authFailures++;
    if (tracked.authFailures < this.limits.authFailuresPerConnection) return;
    this.log.warn('closing a connection whose calls all failed authentication', {
      peer,
      failures: tracked.authFailures,
    });
    // Let the failing call's status go out first, then refuse new calls and close.
    setImmediate(() => {
      const session = tracked.session;
      if (session !== undefined && !session.destroyed) {
        session.close();
        setTimeout(() => session.destroy(), 1000).unref();
      } else {
        tracked.socket.destroy();
      }
    });
  }

  private onConnection(socket: Socket): void {
    const peer = peerOf(socket.remoteAddress, socket.remotePort);
    if (this.byPeer.size >= this.limits.maxConnections) {
      this.refusedSinceLog++;
      const now = Date.now();
      if (now - this.lastCapLog >= CAP_LOG_INTERVAL_MS) {
        this.log.warn('connection cap reached: closing new connections (LUCIEN_MAX_CONNECTIONS)', {
          maxConnections: this.limits.maxConnections,
          refused: this.refusedSinceLog,
        });
        this.lastCapLog = now;
        this.refusedSinceLog = 0;
      }
      socket.destroy();
      return;
    }
    const tracked: Tracked = { socket, authFailures: 0, authenticated: false, streams: 0, capLogged: false };
    tracked.handshake = setTimeout(() => {
      this.log.debug('closing a connection that did not complete the handshake in time', { peer });
      this.slowSinceLog++;
      const now = Date.now();
      if (now - this.lastSlowLog >= SLOW_LOG_INTERVAL_MS) {
        this.log.info('closed connections that did not finish the handshake in time (LUCIEN_HANDSHAKE_TIMEOUT_MS)', {
          closed: this.slowSinceLog,
          handshakeTimeoutMs: this.limits.handshakeTimeoutMs,
        });
        this.lastSlowLog = now;
        this.slowSinceLog = 0;
      }
      socket.destroy();
    }, this.limits.handshakeTimeoutMs);
    tracked.handshake.unref();
    this.byPeer.set(peer, tracked);
    socket.once('close', () => {
      clearTimeout(tracked.handshake);
      if (this.byPeer.get(peer) === tracked) this.byPeer.delete(peer);
    });
  }

  private onSession(session: http2.ServerHttp2Session): void {
    const tracked = this.byPeer.get(peerOf(session.socket?.remoteAddress, session.socket?.remotePort));
    if (tracked === undefined) return;
    tracked.session = session;
    this.bySession.set(session, tracked);
    // The client's first SETTINGS frame follows its preface: the handshake is complete.
    session.once('remoteSettings', () => clearTimeout(tracked.handshake));
  }

  private onStream(stream: http2.ServerHttp2Stream): void {
    const tracked = stream.session === undefined ? undefined : this.bySession.get(stream.session);
    if (tracked === undefined) return;
    tracked.streams++;
    stream.once('close', () => tracked.streams--);
    if (tracked.streams >= this.limits.maxStreamsPerConnection && !tracked.capLogged) {
      tracked.capLogged = true;
      this.log.warn(
        'a connection reached its cap of concurrent streams; further calls on it wait (LUCIEN_MAX_STREAMS_PER_CONNECTION)',
        {
          peer: peerOf(tracked.socket.remoteAddress, tracked.socket.remotePort),
          maxStreamsPerConnection: this.limits.maxStreamsPerConnection,
        },
      );
    }
  }
}
