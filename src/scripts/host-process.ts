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
import type {
  BridgeCall,
  CompiledMessage,
  DoneMessage,
  FromHost,
  ReadyMessage,
  ReplyMessage,
  RunMessage,
  ToHost,
} from '../../engines/protocol';
import { processTree } from './sandbox';

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
  async run(run: Omit<RunMessage, 't' | 'id'>, onCall: (call: BridgeCall) => Promise<ReplyMessage>): Promise<DoneMessage> {
    const id = this.nextId++;
    this.send({ t: 'run', id, ...run });
    for (;;) {
      const message = await this.next();
      if (message.t === 'done') {
        if (message.id !== id) throw new Error(`protocol: done for ${message.id}, expected ${id}`);
        if (message.ok) this.compiledKeys.add(run.key);
        return message;
      }
      if (message.t !== 'call') throw new Error(`protocol: unexpected ${message.t} during a run`);
      const { t: _t, ...call } = message;
      this.send(await onCall(call as BridgeCall));
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
    const json = Buffer.from(JSON.stringify(message), 'utf8');
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32LE(json.length, 0);
    this.out.write(Buffer.concat([header, json]));
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
      let message: FromHost;
      try {
        message = JSON.parse(this.buffer.toString('utf8', 4, 4 + length)) as FromHost;
      } catch {
        this.kill();
        return;
      }
      this.buffer = this.buffer.subarray(4 + length);
      const waiting = this.waiting;
      if (waiting !== undefined) {
        this.waiting = undefined;
        waiting.resolve(message);
      } else {
        this.queued.push(message);
      }
    }
  }
}
