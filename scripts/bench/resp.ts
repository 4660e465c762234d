/**
 * A raw Redis client: RESP2 over one net.Socket, commands pipelined and
 * answered in order. Parses the reply types the bench meets (simple string,
 * error, integer, bulk string, array). Like the lean gRPC client, it exists
 * to keep the load generator's own CPU per call small.
 */
import { connect, type Socket } from 'node:net';

export type Reply = string | number | null | Error | Reply[];

type Pending = { resolve: (r: Reply) => void; reject: (e: Error) => void };

export class Resp {
  private readonly pending: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.failAll(err));
    socket.on('close', () => this.failAll(new Error('redis connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => {
        socket.removeListener('error', reject);
        resolve(new Resp(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends one command; rejects when Redis answers with an error. */
  command(args: readonly string[]): Promise<Reply> {
    let out = `*${args.length}\r\n`;
    for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    this.socket.write(out);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  close(): void {
    this.socket.end();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const parsed = parse(this.buf, 0);
      if (parsed === undefined) return;
      this.buf = this.buf.subarray(parsed[1]);
      const p = this.pending.shift();
      if (p === undefined) continue;
      if (parsed[0] instanceof Error) p.reject(parsed[0]);
      else p.resolve(parsed[0]);
    }
  }
}

/** One reply starting at `off`: [reply, next offset], or undefined if incomplete. */
function parse(buf: Buffer, off: number): [Reply, number] | undefined {
  if (off >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', off);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[off] as number);
  const line = buf.toString('utf8', off + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, at);
        if (item === undefined) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected RESP type ${type}`);
  }
}
