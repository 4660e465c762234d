/**
 * The bridges of the runs sent to one engine host, in the order it runs them
 * (a second run may wait in the host's pipe behind the first: pipelining):
 * the first one's handler answers the host's bridge calls until its answer
 * comes, then the next one's. Per run: whether an answer is still awaited
 * (one call at a time), whether the store failed during it, and how many
 * frames the host sent for it. How each answer is framed back is here too. A
 * call outside a run, or a second call before the first is answered, is a
 * protocol breach. Must never reach another run's handler, nor read frames
 * or manage the process: host-process.ts does that.
 */
import { FrameError } from '../../engines/frame';
import { MAX_NESTING_DEPTH, nestsDeeperThan } from '../../engines/json-depth';
import { type BridgeReply, FRAME_DENIED, FRAME_ERROR, FRAME_VALUE, MAX_FRAME_BYTES } from '../../engines/protocol';
import { isLucienError } from '../errors';
import type { BridgeHandler } from './script-engine';

/** The bridge of one run. */
export interface CallState {
  readonly handler: BridgeHandler;
  /** An answer is being waited for; the host may not send another call meanwhile. */
  busy: boolean;
  /** The store failed during this run: the script was told, and the run fails with this error. */
  failure: unknown;
  /** Frames the host sent for this run: none means it never started it. */
  frames: number;
  /** Told when the host starts on this run (it is first in line); again if it is sent again. */
  readonly onStart: (() => void) | undefined;
}

export class HostCalls {
  /** The runs sent and not yet answered, in the host's order: the first is the one it runs. */
  private readonly runs: CallState[] = [];

  constructor(
    /** Sends one frame body to the host. */
    private readonly write: (body: string) => void,
    /** Kills the host for breaking the protocol. */
    private readonly breach: (reason: string) => void,
  ) {}

  /** The bridge of a new run, answered by `handler` (queued by sent()). */
  begin(handler: BridgeHandler, onStart?: () => void): CallState {
    return { handler, busy: false, failure: undefined, frames: 0, onStart };
  }

  /** The run's message went to the host: its bridge follows those sent before it. */
  sent(calls: CallState): void {
    this.runs.push(calls);
    if (this.runs.length === 1) calls.onStart?.();
  }

  /** The first run was answered (done or missing): the host's frames are now the next one's. */
  answered(): void {
    const first = this.runs.shift();
    if (first !== undefined) first.frames++;
    this.runs[0]?.onStart?.();
  }

  /** The run is over: a call frame never reaches it again. */
  end(calls: CallState): void {
    const i = this.runs.indexOf(calls);
    if (i < 0) return;
    this.runs.splice(i, 1);
    if (i === 0) this.runs[0]?.onStart?.();
  }

  /** Runs sent and not yet answered. */
  get pending(): number {
    return this.runs.length;
  }

  /** A bridge call: answered at once when the handler can, else once it resolves. */
  onCallFrame(request: string): void {
    const calls = this.runs[0];
    // A call outside a run must never reach another run's transaction; a second call before the first is answered breaks the protocol.
    if (calls === undefined) {
      this.breach('a bridge call outside a run');
      return;
    }
    if (calls.busy) {
      this.breach('a bridge call before the previous one was answered');
      return;
    }
    calls.frames++;
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
        if (this.runs[0] !== calls) return;
        calls.busy = false;
        this.writeReply(r);
      },
      (err: unknown) => {
        if (this.runs[0] !== calls) return;
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
