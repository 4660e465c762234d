/**
 * The etcd backend's hot-path client: etcd's KV Range and Txn as unary gRPC
 * calls over node:http2, one connection per member, hand-encoded
 * (etcd-wire.ts). The etcd3 package (grpc-js underneath) costs about three
 * times the CPU per call; it stays for the watch, maintenance and the feed's
 * checks. Each call goes to the next member its MemberGates lets through, with
 * a deadline; a failure is an EtcdCallError whose code is the gRPC status,
 * transient (network, deadline, no leader: etcd3's recoverable set) or not.
 * Never retried here (retries are withFailover's, fenced for commits), and
 * this file must never decide what a failure means for a commit.
 */
import * as http2 from 'node:http2';
import { RecoverableError, type IRangeRequest, type ITxnRequest } from 'etcd3';
import type { MemberGates } from './etcd-failover';
import { type RangeResult, type TxnResult, decodeRange, decodeTxn, encodeRange, encodeTxn } from './etcd-wire';

/** The calls the backend's reads and commits need: what both this client and etcd3's `kv` offer. */
export interface EtcdKv {
  range(request: IRangeRequest, options?: { deadline?: number }): Promise<RangeResult>;
  txn(request: ITxnRequest, options?: { deadline?: number }): Promise<TxnResult>;
}

/** gRPC statuses another attempt may cure (etcd3's recoverable errors): CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const TRANSIENT = new Set([1, 2, 4, 8, 10, 13, 14]);

/** A failed call: `code` is the gRPC status (14 when the connection failed, 4 when the deadline passed). */
export class EtcdCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${code} ${message}`);
    this.name = 'EtcdCallError';
    // etcd3's isRecoverableError (used by the gates and withFailover) looks for this symbol.
    if (TRANSIENT.has(code)) Object.defineProperty(this, RecoverableError, { value: true });
  }
}

const HEADERS = (path: string): http2.OutgoingHttpHeaders => ({
  ':method': 'POST',
  ':path': path,
  'content-type': 'application/grpc',
  te: 'trailers',
});
const RANGE = HEADERS('/etcdserverpb.KV/Range');
const TXN = HEADERS('/etcdserverpb.KV/Txn');

/** One member: a connection made on first use and made again after it closes. */
class Member {
  private session: http2.ClientHttp2Session | undefined;
  private readonly authority: string;

  /** `host` as configured (the gates' name for it); https:// means TLS with the system's CAs, as in etcd3. */
  constructor(readonly host: string) {
    this.authority = /^https?:\/\//.test(host) ? host : `http://${host}`;
  }

  call(headers: http2.OutgoingHttpHeaders, message: Buffer, deadline: number | undefined): Promise<Buffer> {
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connection().request(headers);
      } catch (err) {
        this.drop();
        reject(new EtcdCallError(14, `etcd member ${this.host}: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let statusMessage = '';
      let failure: EtcdCallError | undefined;
      const timer =
        deadline === undefined
          ? undefined
          : setTimeout(
              () => {
                failure = new EtcdCallError(4, `deadline exceeded on etcd member ${this.host}`);
                stream.close(http2.constants.NGHTTP2_CANCEL);
              },
              Math.max(0, deadline - Date.now()),
            );
      const take = (h: http2.IncomingHttpHeaders): void => {
        const s = h['grpc-status'];
        if (s === undefined) return;
        status = Number(s);
        statusMessage = decodeURIComponent(String(h['grpc-message'] ?? ''));
      };
      stream.on('response', take);
      stream.on('trailers', take);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => {
        failure ??= new EtcdCallError(14, `etcd member ${this.host}: ${err.message}`);
      });
      stream.on('close', () => {
        clearTimeout(timer);
        if (failure !== undefined) return reject(failure);
        if (status === undefined) {
          return reject(new EtcdCallError(14, `etcd member ${this.host} closed a call without a status`));
        }
        if (status !== 0) return reject(new EtcdCallError(status, statusMessage));
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        if (body.length < 5 || body.readUInt32BE(1) !== body.length - 5) {
          return reject(new EtcdCallError(13, `etcd member ${this.host} sent a malformed answer`));
        }
        resolve(body.subarray(5));
      });
      stream.end(frame);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private connection(): http2.ClientHttp2Session {
    if (this.session !== undefined && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.authority, { settings: { enablePush: false } });
    // Errors reach the streams; a connection that failed or went away is replaced on the next call.
    session.on('error', () => this.drop(session));
    session.on('goaway', () => this.drop(session));
    session.on('close', () => this.drop(session));
    session.unref();
    this.session = session;
    return session;
  }

  private drop(session = this.session): void {
    if (this.session !== session) return;
    this.session = undefined;
    session?.destroy();
  }
}

/** Every member, each call on the next one its gate lets through. */
export class LeanEtcdKv implements EtcdKv {
  private readonly members: Member[];
  private next = 0;

  constructor(
    hosts: readonly string[],
    private readonly gates: MemberGates,
  ) {
    this.members = hosts.map((host) => new Member(host));
    for (const member of this.members) gates.watch(member.host);
    this.next = Math.floor(Math.random() * this.members.length);
  }

  async range(request: IRangeRequest, options: { deadline?: number } = {}): Promise<RangeResult> {
    return decodeRange(await this.call(RANGE, encodeRange(request), options.deadline));
  }

  async txn(request: ITxnRequest, options: { deadline?: number } = {}): Promise<TxnResult> {
    return decodeTxn(await this.call(TXN, encodeTxn(request), options.deadline));
  }

  close(): void {
    for (const member of this.members) member.close();
  }

  private call(headers: http2.OutgoingHttpHeaders, message: Buffer, deadline: number | undefined): Promise<Buffer> {
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[(this.next + i) % this.members.length] as Member;
      if (this.gates.skipped(member.host)) continue;
      this.next = (this.next + i + 1) % this.members.length;
      return this.gates.run(member.host, () => member.call(headers, message, deadline));
    }
    // Unreachable: the gates let some member through when every one failed recently.
    return Promise.reject(new EtcdCallError(14, 'no etcd member to call'));
  }
}
