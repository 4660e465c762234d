/**
 * Turns for contended scripts. Runs are optimistic: two runs that read and
 * write the same key at once both do their work, and the later commit loses
 * and runs again. On a hot key that wastes about every other run. So after a
 * script's run loses a commit race, that script's runs take turns (one at a
 * time, in arrival order) for a while: at least a window of time and a number
 * of turns (so a slow machine does not end it after a few runs), renewed by
 * every further loss. When it ends, the waiting runs all go at once, as
 * optimistic runs again. A script whose runs do not collide never waits.
 *
 * A turn is taken before an engine host is, so a waiting run holds no host
 * and other scripts keep every host. A run waits at most 250 ms for its turn
 * (runs too slow for turns to pay go on optimistically, as before), and never
 * past its deadline or its caller's cancellation. Only an ordering: it must
 * never decide a run's outcome.
 */

import type { CancelSignal } from './script-engine';

/** Ends a turn: the next waiting run of the script gets it. Calling it twice is harmless. */
export type EndTurn = () => void;

interface Waiter {
  readonly start: (end: EndTurn) => void;
}

interface Contended {
  /** Runs of the script take turns until this time (performance.now() ms)... */
  until: number;
  /** ...and for this many more turns. */
  turnsLeft: number;
  /** A run of the script holds the turn. */
  busy: boolean;
  readonly queue: Waiter[];
}

const NOTHING: EndTurn = () => undefined;

/** Entries kept before a new contended script sweeps out those that are over. */
const SWEEP_AT = 1024;

export class ScriptTurns {
  private readonly scripts = new Map<string, Contended>();

  constructor(
    /** How long after a lost race the script's runs keep taking turns... */
    private readonly windowMs = 200,
    /** ...and for at least how many turns. */
    private readonly minTurns = 64,
    private readonly now: () => number = () => performance.now(),
    /**
     * Longest wait for a turn: a script whose runs are too slow for turns to
     * pay (a queue of them outlasts this) runs optimistically instead of
     * queueing its callers toward their deadlines.
     */
    private readonly maxWaitMs = 250,
  ) {}

  /** A run of the script lost a commit race: its runs take turns for the next window. */
  conflicted(script: string): void {
    const until = this.now() + this.windowMs;
    const c = this.scripts.get(script);
    if (c === undefined) {
      // A script that is never run again leaves its entry behind (Eval makes a key per source): sweep now and then.
      if (this.scripts.size >= SWEEP_AT) this.sweep();
      this.scripts.set(script, { until, turnsLeft: this.minTurns, busy: false, queue: [] });
    } else {
      c.until = until;
      c.turnsLeft = this.minTurns;
    }
  }

  /** Whether the script's runs take turns now. */
  contended(script: string): boolean {
    const c = this.scripts.get(script);
    return c !== undefined && (c.busy || !this.over(c));
  }

  /**
   * Forgets the scripts no run holds a turn of and whose window has passed
   * (even with turns left: a script run once never takes them; forgetting it
   * only ends its turns early).
   */
  private sweep(): void {
    const now = this.now();
    for (const [script, c] of this.scripts) if (!c.busy && c.until <= now) this.scripts.delete(script);
  }

  private over(c: Contended): boolean {
    return c.turnsLeft <= 0 && c.until <= this.now();
  }

  /**
   * Waits for the script's turn when its runs take turns; otherwise at once.
   * Resolves with what ends the turn; when `deadlineMs` (Date.now() ms) or the
   * longest wait passes, or `signal` aborts first, resolves without a turn
   * (ending it does nothing): the run then goes on as an optimistic one.
   */
  take(script: string, deadlineMs: number, signal?: CancelSignal): EndTurn | Promise<EndTurn> {
    const c = this.scripts.get(script);
    if (c === undefined) return NOTHING;
    if (!c.busy) {
      if (this.over(c)) {
        this.scripts.delete(script);
        return NOTHING;
      }
      c.busy = true;
      return this.ender(script, c);
    }
    return new Promise<EndTurn>((resolve) => {
      const giveUp = () => {
        const at = c.queue.indexOf(waiter);
        if (at >= 0) c.queue.splice(at, 1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        resolve(NOTHING);
      };
      const waiter: Waiter = {
        start: (end) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', giveUp);
          resolve(end);
        },
      };
      const timer = setTimeout(giveUp, Math.max(0, Math.min(deadlineMs - Date.now(), this.maxWaitMs)));
      signal?.addEventListener('abort', giveUp);
      c.queue.push(waiter);
      if (signal?.aborted === true) giveUp();
    });
  }

  private ender(script: string, c: Contended): EndTurn {
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      c.turnsLeft--;
      if (this.over(c)) {
        // Taking turns is over: every waiting run goes now.
        if (this.scripts.get(script) === c) this.scripts.delete(script);
        c.busy = false;
        for (const waiter of c.queue.splice(0)) waiter.start(NOTHING);
        return;
      }
      const next = c.queue.shift();
      if (next !== undefined) return next.start(this.ender(script, c));
      c.busy = false;
    };
  }
}
