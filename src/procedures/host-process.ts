/**
 * The server side of one engine host: a locked-down child process spoken to
 * over two pipes with the framed protocol of engines/protocol.ts (frames
 * through engines/frame.ts). It knows nothing of storage or pools: it starts,
 * compiles, runs (handing bridge calls to a callback), and dies when told.
 *
 * The host is distrusted: every frame is bounded in size, at most one frame
 * may be outstanding (one bridge call at a time, one answer per request), and
 * anything else (a frame of unknown kind, a message nobody asked for, a call
 * outside a run) is a protocol breach that kills the host. The server decides
 * which compiled scripts the host keeps (an LRU of `scriptCache` keys; the
 * host forgets what it is told to drop).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { encodeFrame, FrameDecoder, FrameError } from '../../engines/frame';
import { hostArgs, type HostSpec } from '../../engines/host-spec';
import { MAX_NESTING_DEPTH, nestsDeeperThan } from '../../engines/json-depth';
import {
  type BridgeReply,
  type CompiledMessage,
  type DoneMessage,
  FRAME_CALL,
  FRAME_DENIED,
  FRAME_ERROR,
  FRAME_JSON,
  FRAME_VALUE,
  type FromHost,
  MAX_FRAME_BYTES,
  type ReadyMessage,
  type RunMessage,
  type ToHost,
} from '../../engines/protocol';
import { isLucienError, LucienError } from '../errors';
import type { BridgeHandler } from './script-engine';
import { processTree } from './confinement';

export type { HostSpec };

export type HostExit = {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
};

export class HostExitedError extends Error {
  constructor(
    readonly exit: HostExit,
    /** Why the server killed it, when it did so for breaking the protocol. */
    readonly breach?: string,
  ) {
    super(
      breach !== undefined
        ? `engine host broke the protocol (${breach})`
        : `engine host exited (code ${exit.code}, signal ${exit.signal})`,
    );
    this.name = 'HostExitedError';
  }
}

export interface HostOptions {
  /** Compiled scripts the host keeps; the least recently used are dropped beyond it. */
  readonly scriptCache: number;
  /** Largest frame accepted from the host. */
  readonly maxFrameBytes: number;
}

const DEFAULT_OPTIONS: HostOptions = { scriptCache: 256, maxFrameBytes: MAX_FRAME_BYTES };

/** How long after a host's exit its stderr may still be arriving. */
const EXIT_GRACE_MS = 500;

/** Bytes of answers the host may leave unread before it counts as not speaking the protocol. */
const MAX_UNREAD_BYTES = 4 * MAX_FRAME_BYTES;

type Pending = { resolve: (m: FromHost) => void; reject: (e: Error) => void };

/** The bridge of the run in progress. */
interface CallState {
  readonly handler: BridgeHandler;
  /** An answer is being waited for; the host may not send another call meanwhile. */
  busy: boolean;
  /** The store failed during this run: the script was told, and the run fails with this error. */
  failure: unknown;
}

const FRAME_CALL_BYTE = FRAME_CALL.charCodeAt(0);

/** Whether a process exists (signal 0 checks without sending anything); true when unknown. */
function exists(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class HostProcess {
  readonly spec: HostSpec;
  readonly child: ChildProcess;
  private readonly options: HostOptions;
  /** Keys of the compiled scripts the host holds, least recently used first. */
  private readonly held = new Map<string, true>();
  private readonly out: Writable;
  private readonly inp: Readable;
  private readonly decoder: FrameDecoder;
  private waiting: Pending | undefined;
  private calls: CallState | undefined;
  private exitInfo: HostExit | undefined;
  private stderr = '';
  private nextId = 1;
  private killed = false;
  private ended = false;
  /** The host said it exits after its last answer. */
  private retiring = false;

  /** Whether the host said it exits after its last answer (its engine can no longer be trusted). */
  get retired(): boolean {
    return this.retiring;
  }
  /** Why the host was killed for breaking the protocol, if it was. */
  breach: string | undefined;
  readonly exited: Promise<HostExit>;
  ready: ReadyMessage | undefined;

  private constructor(spec: HostSpec, options: HostOptions) {
    this.spec = spec;
    this.options = options;
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    const [command, ...prefix] = spec.wrapper && spec.wrapper.length > 0 ? spec.wrapper : [process.execPath];
    const args =
      spec.wrapper && spec.wrapper.length > 0 ? [...prefix, process.execPath, ...hostArgs(spec)] : hostArgs(spec);
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
    this.inp.on('end', () => {
      this.ended = true;
    });
    this.exited = new Promise((resolve) => {
      // The exit is final once stderr is read to its end ('close'): a host's last words (V8's
      // "out of memory") tell a crash from a kill, and 'exit' can come before them. A grandchild
      // holding the pipes must not hold the verdict up for long, hence the fallback.
      let fallback: NodeJS.Timeout | undefined;
      const final = (code: number | null, signal: NodeJS.Signals | null): void => {
        clearTimeout(fallback);
        if (this.exitInfo !== undefined) return;
        this.exitInfo = { code, signal, stderr: this.stderr };
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.reject(new HostExitedError(this.exitInfo, this.breach));
        resolve(this.exitInfo);
      };
      this.child.on('exit', (code, signal) => {
        fallback = setTimeout(() => final(code, signal), EXIT_GRACE_MS);
      });
      this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => final(code, signal));
      this.child.on('error', () => undefined);
    });
  }

  /** Starts a host and resolves once it has announced it is ready. */
  static async start(spec: HostSpec, options: Partial<HostOptions> = {}): Promise<HostProcess> {
    const host = new HostProcess(spec, { ...DEFAULT_OPTIONS, ...options });
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = await Promise.race([
        host.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${spec.engine} host did not start within ${spec.startTimeoutMs} ms`)),
            spec.startTimeoutMs,
          );
        }),
      ]);
      if (ready.t !== 'ready') throw new Error(`protocol: expected ready, got ${ready.t}`);
      host.ready = ready;
      host.enginePid = host.child.pid === undefined ? undefined : processTree(host.child.pid).at(-1);
      return host;
    } catch (err) {
      host.kill();
      if (err instanceof HostExitedError) {
        throw new Error(`${spec.engine} host failed to start: ${err.message}: ${err.exit.stderr.slice(0, 2000)}`, {
          cause: err,
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Whether the host may be given a request: not killed, not retiring, its
   * process not seen exiting and its pipe not closed. Checked before every
   * dispatch, so a host that died or said it will is never handed on.
   */
  get alive(): boolean {
    return (
      !this.killed &&
      !this.retiring &&
      !this.ended &&
      this.exitInfo === undefined &&
      this.child.exitCode === null &&
      this.child.signalCode === null &&
      exists(this.enginePid)
    );
  }

  /**
   * The engine's own process: the deepest one under the child (the child is
   * the host itself, or its confinement wrapper, which outlives the host for
   * a moment and keeps the pipes open meanwhile).
   */
  private enginePid: number | undefined;

  /** Frames the host sent during the run in progress (or the last one): none means it never started it. */
  framesThisRun = 0;
  /** Runs the host answered `missing` for (it lacked a script the server thought it held). */
  missingAnswers = 0;

  /** How many compiled scripts the server has told this host to keep. */
  get heldScripts(): number {
    return this.held.size;
  }

  /** Compiles; with `key`, the host also keeps the result for runs under that key. */
  async compile(name: string, source: string, key?: string): Promise<CompiledMessage> {
    const id = this.nextId++;
    const drop = key !== undefined && !this.held.has(key) ? this.makeRoom() : undefined;
    this.send({ t: 'compile', id, name, source, key, drop });
    const answer = await this.next();
    if (answer.t !== 'compiled' || answer.id !== id)
      throw this.protocolBreach(`expected compiled ${id}, got ${answer.t}`);
    if (answer.retire === true) this.retiring = true;
    if (answer.ok && key !== undefined) this.hold(key);
    return answer;
  }

  /**
   * Runs a script, answering each bridge call with `onCall` until the host
   * reports the run done; sends the source only if the host does not hold the
   * script (and again, transparently, if the host says it lacks it). Rejects
   * with HostExitedError if the host dies, and with the store's error if the
   * store failed during a bridge call (the host stays in service).
   */
  async run(
    run: Omit<RunMessage, 't' | 'id' | 'drop' | 'source'> & { readonly source: string },
    onCall: BridgeHandler,
  ): Promise<DoneMessage> {
    // Deep nesting can overflow an engine's parser and kill the host: it never crosses (see json-depth.ts).
    if (nestsDeeperThan(run.args, MAX_NESTING_DEPTH))
      throw new LucienError('INVALID_ARGUMENT', `args nest deeper than ${MAX_NESTING_DEPTH} levels`);
    const calls: CallState = { handler: onCall, busy: false, failure: undefined };
    this.calls = calls;
    this.framesThisRun = 0;
    try {
      let known = this.held.has(run.key);
      for (;;) {
        const id = this.nextId++;
        const drop = known ? undefined : this.makeRoom();
        this.send({
          t: 'run',
          id,
          key: run.key,
          name: run.name,
          source: known ? undefined : run.source,
          args: run.args,
          limits: run.limits,
          drop,
          cache: run.cache,
        });
        const message = await this.next();
        if (message.t === 'missing' && message.id === id && known) {
          // The host lacks a script the server thought it held: send it again, with the source.
          this.missingAnswers++;
          this.held.delete(run.key);
          known = false;
          continue;
        }
        if (message.t !== 'done') throw this.protocolBreach(`unexpected ${message.t} during a run`);
        if (message.id !== id) throw this.protocolBreach(`done for ${message.id}, expected ${id}`);
        if (calls.busy) throw this.protocolBreach('done while a bridge call is unanswered');
        if (message.retire === true) this.retiring = true;
        // A compile failure leaves nothing in the host; anything else (it ran) does.
        if (message.ok || message.error.kind !== 'syntax') this.hold(run.key);
        if (calls.failure !== undefined) throw calls.failure;
        return message;
      }
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

  /** Marks `key` most recently used. */
  private hold(key: string): void {
    this.held.delete(key);
    this.held.set(key, true);
  }

  /** The least recently used keys to drop so one more fits. */
  private makeRoom(): string[] | undefined {
    const over = this.held.size + 1 - this.options.scriptCache;
    if (over <= 0) return undefined;
    const drop: string[] = [];
    for (const key of this.held.keys()) {
      if (drop.length >= over) break;
      drop.push(key);
    }
    for (const key of drop) this.held.delete(key);
    return drop;
  }

  private send(message: ToHost): void {
    this.write(JSON.stringify(message));
  }

  private write(body: string): void {
    this.out.write(encodeFrame(body, MAX_FRAME_BYTES));
    // A host that does not read its answers breaks the protocol (and would grow our buffers without bound).
    if (this.out.writableLength > MAX_UNREAD_BYTES) this.protocolBreach('it does not read its answers');
  }

  private next(): Promise<FromHost> {
    if (this.exitInfo !== undefined) return Promise.reject(new HostExitedError(this.exitInfo, this.breach));
    if (this.killed) return this.exited.then((exit) => Promise.reject(new HostExitedError(exit, this.breach)));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Kills the host for breaking the protocol; the error ends whatever it was doing. */
  private protocolBreach(reason: string): Error {
    this.breach ??= reason;
    this.kill();
    return new HostExitedError(this.exitInfo ?? { code: null, signal: 'SIGKILL', stderr: this.stderr }, this.breach);
  }

  private onData(chunk: Buffer): void {
    if (this.killed) return;
    this.decoder.push(chunk);
    for (;;) {
      let body: Buffer | undefined;
      try {
        body = this.decoder.next();
      } catch (err) {
        this.protocolBreach((err as Error).message);
        return;
      }
      if (body === undefined) return;
      this.framesThisRun++;
      if (body[0] === FRAME_CALL_BYTE) {
        this.onCallFrame(body.toString('utf8', 1));
        if (this.killed) return;
        continue;
      }
      let message: FromHost;
      try {
        if (body[0] !== FRAME_JSON) throw new Error();
        message = JSON.parse(body.toString('utf8')) as FromHost;
        if (typeof message !== 'object' || message === null || typeof message.t !== 'string') throw new Error();
      } catch {
        this.protocolBreach(
          body.length === 0 ? 'an empty frame' : `a frame of unknown kind '${String.fromCharCode(body[0] as number)}'`,
        );
        return;
      }
      const waiting = this.waiting;
      if (waiting === undefined) {
        this.protocolBreach(`a '${message.t}' message nobody asked for`);
        return;
      }
      this.waiting = undefined;
      // The run is over from here: a call frame after its done belongs to no run.
      if (message.t === 'done' || message.t === 'missing') this.calls = undefined;
      waiting.resolve(message);
    }
  }

  /** A bridge call: answered at once when the handler can, else once it resolves. */
  private onCallFrame(request: string): void {
    const calls = this.calls;
    // A call outside a run must never reach another run's transaction; a second call before the first is answered breaks the protocol.
    if (calls === undefined) {
      this.protocolBreach('a bridge call outside a run');
      return;
    }
    if (calls.busy) {
      this.protocolBreach('a bridge call before the previous one was answered');
      return;
    }
    if (calls.failure !== undefined) {
      this.writeReply({ error: 'the run has already failed' });
      return;
    }
    let reply: BridgeReply | Promise<BridgeReply>;
    try {
      reply = calls.handler(request);
    } catch (err) {
      this.storeFailed(calls, err);
      return;
    }
    if (!(reply instanceof Promise)) {
      this.writeReply(reply);
      return;
    }
    calls.busy = true;
    reply.then(
      (r) => {
        if (this.calls !== calls) return;
        calls.busy = false;
        this.writeReply(r);
      },
      (err: unknown) => {
        if (this.calls !== calls) return;
        calls.busy = false;
        this.storeFailed(calls, err);
      },
    );
  }

  /** The handler ended the run (the store failed, a run limit was hit): the script is told, the host stays, the run fails with `err`. */
  private storeFailed(calls: CallState, err: unknown): void {
    calls.failure = err;
    this.writeReply({ error: isLucienError(err) && err.code !== 'INTERNAL' ? err.message : 'the store failed' });
  }

  private writeReply(reply: BridgeReply): void {
    if ('value' in reply && nestsDeeperThan(reply.value, MAX_NESTING_DEPTH))
      this.write(`${FRAME_ERROR}the value read nests deeper than ${MAX_NESTING_DEPTH} levels`);
    else if ('value' in reply) {
      try {
        this.write(FRAME_VALUE + reply.value);
      } catch (err) {
        // An answer too big for one frame (e.g. a getMany of many large values) is the script's error, not the server's.
        if (!(err instanceof FrameError)) throw err;
        this.write(`${FRAME_ERROR}the answer is larger than ${MAX_FRAME_BYTES} bytes: read fewer keys at a time`);
      }
    } else if ('denied' in reply) this.write(FRAME_DENIED + reply.denied);
    else this.write(FRAME_ERROR + reply.error);
  }
}
