/**
 * The parent side of the ping-pong (see pingpong-child.ts): spawns a plain
 * node child with the same stdio layout as an engine host (pipes on fd 3
 * and 4) and answers each of its frames from the event loop, as the server
 * does. The answer is one of:
 *   bare        a fixed reply frame of a bridge answer's size: the floor;
 *   json        what the protocol does today around it: parse the call's JSON
 *               envelope, stringify a reply envelope with the value inside
 *               (escaped), concat header and body; the child parses it back;
 *   json+async  that plus a LevelDB read through the async API with a
 *               snapshot (db.getMany, as the bridge reads today);
 *   json+sync   that plus the same read through classic-level's getSync.
 * The last three split the bridge's cost into its parts, in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Sample } from './drive';

export type PingPongMode = 'bare' | 'json' | 'json+async' | 'json+sync';

/** The part of classic-level the ping-pong reads with (kept structural: no import of the package's types here). */
export interface PingPongDb {
  getMany(keys: string[], options: { snapshot: unknown }): Promise<(string | undefined)[]>;
  getSync(key: string, options: { snapshot: unknown }): string | undefined;
  snapshot(): unknown;
}

export class PingPong {
  private readonly child: ChildProcess;
  private readonly out: Writable;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((stats: string) => void) | undefined;
  private readonly reply: Buffer;
  private mode: PingPongMode = 'bare';
  private snapshot: unknown;

  constructor(
    private readonly replyValue: string,
    private readonly db?: PingPongDb,
  ) {
    this.child = spawn(process.execPath, [join(__dirname, 'pingpong-child.js')], {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe'],
    });
    this.out = this.child.stdio[3] as Writable;
    this.reply = frame(Buffer.from(`r${JSON.stringify({ t: 'reply', ok: true, value: replyValue })}`));
    (this.child.stdio[4] as Readable).on('data', (chunk: Buffer) => this.onData(chunk));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Ping-pongs for `ms` with a call frame of `callText`; the child's own timing. */
  measure(ms: number, callText: string, mode: PingPongMode = 'bare'): Promise<Sample> {
    this.mode = mode;
    if (mode === 'json+async' || mode === 'json+sync') this.snapshot = this.db?.snapshot();
    const go = frame(Buffer.from(`g${JSON.stringify({ ms, call: callText, parse: mode !== 'bare' })}`));
    const cpu0 = process.cpuUsage();
    return new Promise((resolve) => {
      this.waiting = (text) => {
        const cpu = process.cpuUsage(cpu0);
        const s = JSON.parse(text) as { n: number; seconds: number; p50us: number; p99us: number };
        resolve({
          ops: s.n,
          errors: 0,
          firstError: undefined,
          seconds: s.seconds,
          rps: s.n / s.seconds,
          p50us: s.p50us,
          p99us: s.p99us,
          clientCpuUs: (cpu.user + cpu.system) / s.n,
        });
      };
      this.out.write(go);
    });
  }

  close(): void {
    this.out.end();
    this.child.kill();
  }

  private answer(body: string): void {
    const call = JSON.parse(body) as { key: string };
    const send = (value: string | undefined) => {
      const json = Buffer.from(`r${JSON.stringify({ t: 'reply', ok: true, value: value ?? 'null' })}`, 'utf8');
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32LE(json.length, 0);
      this.out.write(Buffer.concat([header, json]));
    };
    const db = this.db;
    if (this.mode === 'json' || db === undefined) send(this.replyValue);
    else if (this.mode === 'json+sync') send(db.getSync(`d${call.key}`, { snapshot: this.snapshot }));
    else void db.getMany([`d${call.key}`], { snapshot: this.snapshot }).then((v) => send(v[0]));
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const length = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + length) break;
      const kind = this.buf[4];
      if (kind === 0x63 /* c */) {
        if (this.mode === 'bare') this.out.write(this.reply);
        else this.answer(this.buf.toString('utf8', 5, 4 + length));
      } else if (kind === 0x73 /* s */) this.waiting?.(this.buf.toString('utf8', 5, 4 + length));
      this.buf = this.buf.subarray(4 + length);
    }
  }
}

function frame(body: Buffer): Buffer {
  const f = Buffer.allocUnsafe(4 + body.length);
  f.writeUInt32LE(body.length, 0);
  body.copy(f, 4);
  return f;
}
