/**
 * The bridge of the run in progress on one engine host: which handler answers
 * the host's bridge calls, whether an answer is still awaited (one call at a
 * time), whether the store failed during the run, and how each answer is
 * framed back to the host. A call outside a run, or a second call before the
 * first is answered, is a protocol breach. Must never reach another run's
 * handler, nor read frames or manage the process: host-process.ts does that.
 */
import { FrameError } from '../../engines/frame';
import { MAX_NESTING_DEPTH, nestsDeeperThan } from '../../engines/json-depth';
import { type BridgeReply, FRAME_DENIED, FRAME_ERROR, FRAME_VALUE, MAX_FRAME_BYTES } from '../../engines/protocol';
import { isLucienError } from '../errors';
import type { BridgeHandler } from './script-engine';

/** The bridge of the run in progress. */
export interface CallState {
  readonly handler: BridgeHandler;
  /** An answer is being waited for; the host may not send another call meanwhile. */
  busy: boolean;
  /** The store failed during this run: the script was told, and the run fails with this error. */
  failure: unknown;
}

export class HostCalls {
  private calls: CallState | undefined;

  constructor(
    /** Sends one frame body to the host. */
    private readonly write: (body: string) => void,
    /** Kills the host for breaking the protocol. */
    private readonly breach: (reason: string) => void,
  ) {}

  /** Starts the bridge of a new run, answered by `handler`. */
  begin(handler: BridgeHandler): CallState {
    const calls: CallState = { handler, busy: false, failure: undefined };
    this.calls = calls;
    return calls;
  }

  /** The run is over: a call frame from now on belongs to no run. */
  end(): void {
    this.calls = undefined;
  }

  /** A bridge call: answered at once when the handler can, else once it resolves. */
  onCallFrame(request: string): void {
    const calls = this.calls;
    // A call outside a run must never reach another run's transaction; a second call before the first is answered breaks the protocol.
    if (calls === undefined) {
      this.breach('a bridge call outside a run');
      return;
    }
    if (calls.busy) {
      this.breach('a bridge call before the previous one was answered');
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
