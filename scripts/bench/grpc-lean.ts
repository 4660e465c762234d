/**
 * A minimal gRPC client over node:http2: one connection, unary calls only,
 * each a 5-byte gRPC prefix plus protobuf bytes, with the status read from
 * the trailers (or from the headers of a trailers-only answer). A grpc-js
 * client spends about three times the CPU per call, which on a 2-core
 * machine is taken from the server under test; this one keeps the load
 * generator out of the way. Plaintext, loopback, benchmarks only.
 */
import * as http2 from 'node:http2';

export class GrpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`gRPC status ${code}: ${message}`);
    this.name = 'GrpcError';
  }
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = http2.constants;

export class LeanGrpc {
  private readonly session: http2.ClientHttp2Session;
  private readonly headers = new Map<string, http2.OutgoingHttpHeaders>();

  private constructor(session: http2.ClientHttp2Session) {
    this.session = session;
  }

  static connect(address: string): Promise<LeanGrpc> {
    return new Promise((resolve, reject) => {
      const session = http2.connect(`http://${address}`, {
        settings: { enablePush: false, initialWindowSize: 4 * 1024 * 1024 },
      });
      session.once('error', reject);
      session.once('connect', () => {
        session.removeListener('error', reject);
        session.on('error', () => undefined);
        // A large connection window so 64 streams of List answers never stall on flow control.
        session.setLocalWindowSize(32 * 1024 * 1024);
        resolve(new LeanGrpc(session));
      });
    });
  }

  /** Sends one request message (already protobuf-encoded) and resolves with the response message. */
  unary(path: string, message: Buffer): Promise<Buffer> {
    let headers = this.headers.get(path);
    if (headers === undefined) {
      headers = {
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [HTTP2_HEADER_TE]: 'trailers',
      };
      this.headers.set(path, headers);
    }
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const stream = this.session.request(headers);
    stream.end(frame);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let statusMessage = '';
      const take = (h: http2.IncomingHttpHeaders) => {
        const s = h['grpc-status'];
        if (s !== undefined) {
          status = String(s);
          statusMessage = decodeURIComponent(String(h['grpc-message'] ?? ''));
        }
      };
      stream.on('response', take);
      stream.on('trailers', take);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('close', () => {
        if (status === undefined)
          return reject(new GrpcError(14, `stream closed without a status (rst ${stream.rstCode})`));
        if (status !== '0') return reject(new GrpcError(Number(status), statusMessage));
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        if (body.length < 5) return reject(new GrpcError(13, 'empty response'));
        const length = body.readUInt32BE(1);
        resolve(body.subarray(5, 5 + length));
      });
    });
  }

  close(): void {
    this.session.close();
  }
}
