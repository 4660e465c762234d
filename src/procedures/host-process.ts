/**
 * The server side of one engine host: a locked-down child process spoken to
 * over two pipes with the framed protocol of engines/protocol.ts (frames
 * through engines/frame.ts). It knows nothing of storage or pools: it starts,
 * compiles, runs (handing bridge calls to a callback), and dies when told.
 *
 * The host is distrusted: every frame is bounded in size, at most one bridge
 * call may be outstanding, one answer comes per request, and anything else
 * (a frame of unknown kind, a message nobody asked for, a call outside a run)
 * is a protocol breach that kills the host. A run may be sent while the one
 * before it is still going (the pool pipelines short read-only runs): the
 * host reads it when it is done with the first, and its bridge calls are
 * answered by its own handler from then on. The server decides
 * which compiled scripts the host keeps (an LRU of `scriptCache` keys; the
 * host forgets what it is told to drop).
 *
 * Its parts: host-exit.ts (how the process ends), host-reader.ts (the frames
 * it sends), host-calls.ts (the run's bridge), host-scripts.ts (what it keeps).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { encodeFrame } from '../../engines/frame';
import { hostArgs, type HostSpec } from '../../engines/host-spec';
import { MAX_NESTING_DEPTH, nestsDeeperThan } from '../../engines/json-depth';
import {
  type CompiledMessage,
  type DoneMessage,
  type FromHost,
  MAX_FRAME_BYTES,
  type ReadyMessage,
  type RunMessage,
  type ToHost,
} from '../../engines/protocol';
import { LucienError } from '../errors';
import type { BridgeHandler } from './script-engine';
import { processTree } from './confinement';
import { exists, type HostExit, HostExitedError, killTree, onFinalExit } from './host-exit';
import { HostCalls } from './host-calls';
import { HeldScripts } from './host-scripts';
import { HostReader } from './host-reader';

export type { HostSpec };

/** What a caller of run() hears of its run's progress on the host. */
export interface RunProgress {
  /** Frames the host sent for the run (set when run() settles): none means it never started it. */
  frames: number;
  /** Told when the host starts on the run (at once, unless another run is ahead of it). */
  readonly onStart?: () => void;
}

export interface HostOptions {
  /** Compiled scripts the host keeps; the least recently used are dropped beyond it. */
  readonly scriptCache: number;
  /** Largest frame accepted from the host. */
  readonly maxFrameBytes: number;
}

const DEFAULT_OPTIONS: HostOptions = { scriptCache: 256, maxFrameBytes: MAX_FRAME_BYTES };

/** Bytes of answers the host may leave unread before it counts as not speaking the protocol. */
const MAX_UNREAD_BYTES = 4 * MAX_FRAME_BYTES;

export class HostProcess {
  readonly spec: HostSpec;
  readonly child: ChildProcess;
  /** The compiled scripts the server has told the host to keep. */
  private readonly held: HeldScripts;
  private readonly out: Writable;
  private readonly inp: Readable;
  /** The host's frames, and the one answer awaited at a time. */
  private readonly reader: HostReader;
  /** The bridge of the run in progress. */
  private readonly calls = new HostCalls(
    (body) => this.write(body),
    (reason) => {
      this.protocolBreach(reason);
    },
  );
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
    this.held = new HeldScripts(options.scriptCache);
    this.reader = new HostReader(options.maxFrameBytes, {
      killed: () => this.killed,
      call: (request) => this.calls.onCallFrame(request),
      // The first run is over from here: call frames after its done belong to the next one sent, if any.
      answered: (message) => {
        if (message.t === 'done' || message.t === 'missing') this.calls.answered();
      },
      breach: (reason) => {
        this.protocolBreach(reason);
      },
    });
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
    this.inp.on('data', (chunk: Buffer) => this.reader.push(chunk));
    this.inp.on('end', () => {
      this.ended = true;
    });
    this.exited = new Promise((resolve) => {
      onFinalExit(this.child, (code, signal) => {
        if (this.exitInfo !== undefined) return;
        this.exitInfo = { code, signal, stderr: this.stderr };
        this.reader.fail(new HostExitedError(this.exitInfo, this.breach));
        resolve(this.exitInfo);
      });
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
    return this.usable && exists(this.enginePid);
  }

  /** `alive` without asking the kernel whether the engine process still exists (a syscall: dispatch asks it). */
  get usable(): boolean {
    return (
      !this.killed &&
      !this.retiring &&
      !this.ended &&
      this.exitInfo === undefined &&
      this.child.exitCode === null &&
      this.child.signalCode === null
    );
  }

  /**
   * The engine's own process: the deepest one under the child (the child is
   * the host itself, or its confinement wrapper, which outlives the host for
   * a moment and keeps the pipes open meanwhile).
   */
  private enginePid: number | undefined;

  /** Runs sent to the host and not yet answered (more than one: pipelined). */
  get runsInFlight(): number {
    return this.calls.pending;
  }

  /** Run messages sent so far: a run sent again after another was sent behind it must not move the cache back. */
  private runsSent = 0;
  /** Runs the host answered `missing` for (it lacked a script the server thought it held). */
  missingAnswers = 0;

  /** Whether the server has told the host to keep the script compiled under `key`. */
  holds(key: string): boolean {
    return this.held.has(key);
  }

  /** How many compiled scripts the server has told this host to keep. */
  get heldScripts(): number {
    return this.held.size;
  }

  /** Compiles; with `key`, the host also keeps the result for runs under that key. */
  async compile(name: string, source: string, key?: string): Promise<CompiledMessage> {
    const id = this.nextId++;
    const drop = key !== undefined && !this.held.has(key) ? this.held.makeRoom() : undefined;
    this.send({ t: 'compile', id, name, source, key, drop });
    const answer = await this.next();
    if (answer.t !== 'compiled' || answer.id !== id)
      throw this.protocolBreach(`expected compiled ${id}, got ${answer.t}`);
    if (answer.retire === true) this.retiring = true;
    if (answer.ok && key !== undefined) this.held.hold(key);
    return answer;
  }

  /**
   * Runs a script, answering each bridge call with `onCall` until the host
   * reports the run done; sends the source only if the host does not hold the
   * script (and again, transparently, if the host says it lacks it). Rejects
   * with HostExitedError if the host dies, and with the store's error if the
   * store failed during a bridge call (the host stays in service).
   *
   * May be called while another run is in flight on this host (pipelining):
   * the run is sent at once and the host starts it when done with the one
   * before; `progress.onStart` is told then, and `progress.frames` counts
   * the frames the host sent for this run (none: it never started it).
   */
  async run(
    run: Omit<RunMessage, 't' | 'id' | 'drop' | 'source'> & { readonly source: string },
    onCall: BridgeHandler,
    progress: RunProgress = { frames: 0 },
  ): Promise<DoneMessage> {
    // Deep nesting can overflow an engine's parser and kill the host: it never crosses (see json-depth.ts).
    if (nestsDeeperThan(run.args, MAX_NESTING_DEPTH))
      throw new LucienError('INVALID_ARGUMENT', `args nest deeper than ${MAX_NESTING_DEPTH} levels`);
    const calls = this.calls.begin(onCall, progress.onStart);
    try {
      let known = this.held.has(run.key);
      let cache = run.cache;
      for (;;) {
        const id = this.nextId++;
        const drop = known ? undefined : this.held.makeRoom();
        const sentAs = ++this.runsSent;
        const answer = this.next();
        this.calls.sent(calls);
        this.send({
          t: 'run',
          id,
          key: run.key,
          name: run.name,
          source: known ? undefined : run.source,
          args: run.args,
          limits: run.limits,
          drop,
          cache,
        });
        const message = await answer;
        progress.frames = calls.frames;
        if (message.t === 'missing' && message.id === id && known) {
          // The host lacks a script the server thought it held: send it again, with the source.
          this.missingAnswers++;
          this.held.forget(run.key);
          known = false;
          // Another run went to the host after this one: it brought the cache to a later revision, which
          // this run's sync must not take back. Sent again without it, it reads through the bridge only.
          if (this.runsSent !== sentAs) cache = undefined;
          continue;
        }
        if (message.t !== 'done') throw this.protocolBreach(`unexpected ${message.t} during a run`);
        if (message.id !== id) throw this.protocolBreach(`done for ${message.id}, expected ${id}`);
        if (calls.busy) throw this.protocolBreach('done while a bridge call is unanswered');
        if (message.retire === true) this.retiring = true;
        // A compile failure leaves nothing in the host; anything else (it ran) does.
        if (message.ok || message.error.kind !== 'syntax') this.held.hold(run.key);
        if (calls.failure !== undefined) throw calls.failure;
        return message;
      }
    } finally {
      progress.frames = calls.frames;
      this.calls.end(calls);
    }
  }

  /** Ends the process at once; safe to call twice. */
  kill(): void {
    this.killed = true;
    if (this.exitInfo !== undefined || this.child.pid === undefined) return;
    // The whole tree, deepest first: a wrapper's death alone does not end the host below it.
    killTree(this.child.pid);
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
    return this.reader.expect();
  }

  /** Kills the host for breaking the protocol; the error ends whatever it was doing. */
  private protocolBreach(reason: string): Error {
    this.breach ??= reason;
    this.kill();
    return new HostExitedError(this.exitInfo ?? { code: null, signal: 'SIGKILL', stderr: this.stderr }, this.breach);
  }
}
