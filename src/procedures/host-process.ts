/**
 * The server side of one engine host: a locked-down child process spoken to
 * over two pipes with the framed protocol of engines/protocol.ts. It knows
 * nothing of storage or pools: it starts, compiles, runs (handing bridge calls
 * to a callback), and dies when told. The process gets an empty environment,
 * Node's permission model with read access to only the paths its engine
 * declares, no child processes, no workers, no writes, and no code generation
 * from strings.
 */
import { ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import {
  type BridgeReply,
  type CompiledMessage,
  type DoneMessage,
  FRAME_CALL,
  FRAME_ERROR,
  FRAME_JSON,
  FRAME_VALUE,
  type FromHost,
  type ReadyMessage,
  type RunMessage,
  type ToHost,
} from '../../engines/protocol';
import type { BridgeHandler } from './script-engine';
import { processTree } from './confinement';

/** How to start a host for one engine: the registry's one line per language. */
export interface HostSpec {
  readonly engine: string;
  /** Absolute path of the compiled host entry (dist/engines/<lang>/host.js). */
  readonly entry: string;
  /** Files and folders the host may read (its code, its engine's runtime). */
  readonly readPaths: readonly string[];
  /** Extra V8/Node flags, e.g. --max-old-space-size. */
  readonly nodeFlags: readonly string[];
  /** How long a cold start may take before the host is given up on. */
  readonly startTimeoutMs: number;
  /** Command prefix that drops the network (e.g. ['unshare', '--net']), when the system allows it. */
  readonly wrapper?: readonly string[];
}

export type HostExit = { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string };

export class HostExitedError extends Error {
  constructor(readonly exit: HostExit) {
    super(`engine host exited (code ${exit.code}, signal ${exit.signal})`);
    this.name = 'HostExitedError';
  }
}

export function hostArgs(spec: HostSpec): string[] {
  return [
    '--experimental-permission',
    // One flag per path: a comma-separated list grants nothing on Node 20.
    ...spec.readPaths.map((p) => `--allow-fs-read=${p}`),
    '--disallow-code-generation-from-strings',
    '--disable-proto=throw',
    '--no-warnings',
    ...spec.nodeFlags,
    spec.entry,
  ];
}

type Pending = { resolve: (m: FromHost) => void; reject: (e: Error) => void };

/** The bridge of the run in progress. */
interface CallState {
  readonly handler: BridgeHandler;
  /** An answer is being waited for; calls arriving meanwhile go to the backlog. */
  busy: boolean;
  readonly backlog: string[];
  /** Ends the run with this error (the store failed, or the handler threw). */
  readonly fail: (err: unknown) => void;
}

const FRAME_CALL_BYTE = FRAME_CALL.charCodeAt(0);

export class HostProcess {
  readonly spec: HostSpec;
  readonly child: ChildProcess;
  /** Compiled-script keys this host has cached, so sources are sent once. */
  readonly compiledKeys = new Set<string>();
  private readonly out: Writable;
  private readonly inp: Readable;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: Pending | undefined;
  private queued: FromHost[] = [];
  private calls: CallState | undefined;
  private exitInfo: HostExit | undefined;
  private stderr = '';
  private nextId = 1;
  readonly exited: Promise<HostExit>;

  private constructor(spec: HostSpec) {
    this.spec = spec;
    const [command, ...prefix] = spec.wrapper && spec.wrapper.length > 0 ? spec.wrapper : [process.execPath];
    const args = spec.wrapper && spec.wrapper.length > 0 ? [...prefix, process.execPath, ...hostArgs(spec)] : hostArgs(spec);
    this.child = spawn(command as string, args, {
      env: {},
      cwd: '/',
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      detached: false,
    });
    this.out = this.child.stdio[3] as Writable;
    this.inp = this.child.stdio[4] as Readable;
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      if (this.stderr.length < 16384) this.stderr += chunk;
    });
    this.out.on('error', () => undefined);
    this.inp.on('data', (chunk: Buffer) => this.onData(chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal, stderr: this.stderr };
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.reject(new HostExitedError(this.exitInfo));
        resolve(this.exitInfo);
      });
      this.child.on('error', () => undefined);
    });
  }

  /** Starts a host and resolves once it has announced it is ready. */
  static async start(spec: HostSpec): Promise<HostProcess> {
    const host = new HostProcess(spec);
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = await Promise.race([
        host.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${spec.engine} host did not start within ${spec.startTimeoutMs} ms`)), spec.startTimeoutMs);
        }),
      ]);
      if (ready.t !== 'ready') throw new Error(`protocol: expected ready, got ${ready.t}`);
      host.ready = ready;
      return host;
    } catch (err) {
      host.kill();
      if (err instanceof HostExitedError) {
        throw new Error(`${spec.engine} host failed to start: ${err.message}: ${err.exit.stderr.slice(0, 2000)}`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  ready: ReadyMessage | undefined;

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** False from the moment kill() is called, before the exit is observed. */
  get alive(): boolean {
    return !this.killed && this.exitInfo === undefined;
  }

  private killed = false;

  /** Compiles; with `key`, the host also caches the result for runs under that key. */
  async compile(name: string, source: string, key?: string): Promise<CompiledMessage> {
    const id = this.nextId++;
    this.send({ t: 'compile', id, name, source, key });
    const answer = await this.next();
    if (answer.t !== 'compiled' || answer.id !== id) throw new Error(`protocol: expected compiled ${id}, got ${answer.t}`);
    if (answer.ok && key !== undefined) this.compiledKeys.add(key);
    return answer;
  }

  /**
   * Runs a script, answering each bridge call with `onCall` until the host
   * reports the run done. Rejects with HostExitedError if the host dies.
   */
  async run(run: Omit<RunMessage, 't' | 'id'>, onCall: BridgeHandler): Promise<DoneMessage> {
    const id = this.nextId++;
    let fail: (err: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    failed.catch(() => undefined);
    const calls: CallState = { handler: onCall, busy: false, backlog: [], fail };
    this.calls = calls;
    try {
      this.send({ t: 'run', id, ...run });
      const message = await Promise.race([this.next(), failed]);
      if (message.t !== 'done') throw new Error(`protocol: unexpected ${message.t} during a run`);
      if (message.id !== id) throw new Error(`protocol: done for ${message.id}, expected ${id}`);
      if (calls.busy || calls.backlog.length > 0) throw new Error('protocol: done while a bridge call is unanswered');
      if (message.ok) this.compiledKeys.add(run.key);
      return message;
    } finally {
      this.calls = undefined;
    }
  }

  /** Ends the process at once; safe to call twice. */
  kill(): void {
    this.killed = true;
    if (this.exitInfo !== undefined || this.child.pid === undefined) return;
    // The whole tree, deepest first: a wrapper's death alone does not end the host below it.
    for (const pid of processTree(this.child.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  private send(message: ToHost): void {
    this.write(JSON.stringify(message));
  }

  /** One frame, header and body in one buffer (so one write(2) in the common case). */
  private write(body: string): void {
    const length = Buffer.byteLength(body, 'utf8');
    const frame = Buffer.allocUnsafe(4 + length);
    frame.writeUInt32LE(length, 0);
    frame.write(body, 4, length, 'utf8');
    this.out.write(frame);
  }

  private next(): Promise<FromHost> {
    const queued = this.queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exitInfo !== undefined) return Promise.reject(new HostExitedError(this.exitInfo));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32LE(0);
      if (this.buffer.length < 4 + length) break;
      const kind = this.buffer[4];
      let message: FromHost | undefined;
      let request: string | undefined;
      try {
        if (kind === FRAME_CALL_BYTE) request = this.buffer.toString('utf8', 5, 4 + length);
        else if (kind === FRAME_JSON) message = JSON.parse(this.buffer.toString('utf8', 4, 4 + length)) as FromHost;
        else throw new Error('unknown frame');
      } catch {
        this.kill();
        return;
      }
      this.buffer = this.buffer.subarray(4 + length);
      if (request !== undefined) {
        this.onCallFrame(request);
        continue;
      }
      // The run is over from here: a call frame after its done belongs to no run.
      if ((message as FromHost).t === 'done') this.calls = undefined;
      const waiting = this.waiting;
      if (waiting !== undefined) {
        this.waiting = undefined;
        waiting.resolve(message as FromHost);
      } else {
        this.queued.push(message as FromHost);
      }
    }
  }

  /** A bridge call: answered at once when the handler can, else once it resolves; later calls wait their turn. */
  private onCallFrame(request: string): void {
    const calls = this.calls;
    // A call outside a run is a host breaking the protocol: it must never reach another run's transaction.
    if (calls === undefined) {
      this.kill();
      return;
    }
    if (calls.busy) {
      calls.backlog.push(request);
      return;
    }
    this.answer(calls, request);
  }

  private answer(calls: CallState, first: string): void {
    let request: string | undefined = first;
    while (request !== undefined && this.calls === calls) {
      let reply: BridgeReply | Promise<BridgeReply>;
      try {
        reply = calls.handler(request);
      } catch (err) {
        calls.fail(err);
        return;
      }
      if (reply instanceof Promise) {
        calls.busy = true;
        reply.then(
          (r) => {
            if (this.calls !== calls) return;
            calls.busy = false;
            this.writeReply(r);
            const next = calls.backlog.shift();
            if (next !== undefined) this.answer(calls, next);
          },
          (err: unknown) => calls.fail(err),
        );
        return;
      }
      this.writeReply(reply);
      request = calls.backlog.shift();
    }
  }

  private writeReply(reply: BridgeReply): void {
    this.write('value' in reply ? FRAME_VALUE + reply.value : FRAME_ERROR + reply.error);
  }
}
