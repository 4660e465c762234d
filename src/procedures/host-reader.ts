/**
 * The reading side of one engine host's pipe: decodes its frames (each
 * bounded in size), hands bridge calls on, and hands each answer to whoever
 * waits for it, in the order they asked (a host may hold a second run behind
 * the first: pipelining). Anything else (a frame too big or of unknown kind, a
 * message nobody asked for) is a protocol breach. Must
 * never answer the host or kill it itself: host-process.ts does that when told.
 */
import { FrameDecoder } from '../../engines/frame';
import { FRAME_CALL, FRAME_JSON, type FromHost } from '../../engines/protocol';

type Pending = { resolve: (m: FromHost) => void; reject: (e: Error) => void };

const FRAME_CALL_BYTE = FRAME_CALL.charCodeAt(0);

export interface ReaderHooks {
  /** Whether the host was killed: nothing it sends counts any more. */
  readonly killed: () => boolean;
  /** A bridge call frame (its request, without the frame kind). */
  readonly call: (request: string) => void;
  /** The awaited answer arrived; called just before it is handed on. */
  readonly answered: (message: FromHost) => void;
  /** Kills the host for breaking the protocol. */
  readonly breach: (reason: string) => void;
}

export class HostReader {
  private readonly decoder: FrameDecoder;
  /** Who waits for the host's next messages, in the order they were asked. */
  private readonly waiting: Pending[] = [];

  constructor(
    maxFrameBytes: number,
    private readonly hooks: ReaderHooks,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
  }

  /** The host's next message not yet promised to an earlier caller. */
  expect(): Promise<FromHost> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
    });
  }

  /** Messages awaited and not yet received. */
  get awaited(): number {
    return this.waiting.length;
  }

  /** Ends every wait for an answer with `err`. */
  fail(err: Error): void {
    for (const waiting of this.waiting.splice(0)) waiting.reject(err);
  }

  push(chunk: Buffer): void {
    if (this.hooks.killed()) return;
    this.decoder.push(chunk);
    for (;;) {
      let body: Buffer | undefined;
      try {
        body = this.decoder.next();
      } catch (err) {
        this.hooks.breach((err as Error).message);
        return;
      }
      if (body === undefined) return;
      if (body[0] === FRAME_CALL_BYTE) {
        this.hooks.call(body.toString('utf8', 1));
        if (this.hooks.killed()) return;
        continue;
      }
      let message: FromHost;
      try {
        if (body[0] !== FRAME_JSON) throw new Error();
        message = JSON.parse(body.toString('utf8')) as FromHost;
        if (typeof message !== 'object' || message === null || typeof message.t !== 'string') throw new Error();
      } catch {
        this.hooks.breach(
          body.length === 0 ? 'an empty frame' : `a frame of unknown kind '${String.fromCharCode(body[0] as number)}'`,
        );
        return;
      }
      const waiting = this.waiting.shift();
      if (waiting === undefined) {
        this.hooks.breach(`a '${message.t}' message nobody asked for`);
        return;
      }
      this.hooks.answered(message);
      waiting.resolve(message);
    }
  }
}
