/**
 * Prefetched reads for Python runs: every bridge call a Python script makes
 * costs a crossing between JavaScript and Pyodide (strings converted both
 * ways, about 2 µs), a render makes 21. So the engine remembers the requests
 * a script made on its last run with the same arguments, and before the next
 * such run asks the bridge which of them its read cache answers as they
 * stand (HostBridge.peek), and hands those answers to the sandbox in one
 * string. The sandbox keeps them in its machinery, out of the script's reach,
 * and answers a request that matches one exactly, without crossing; the
 * first request that does not match crosses and ends the prefetch (it may be
 * a write), after the sandbox has reported which answers the script took.
 *
 * The read set stays what the script read: nothing is recorded when answers
 * are handed over, and each answer the script took is passed to the bridge's
 * taken() (or call()) when it is reported, in the script's order and before
 * any later call crosses, so the bridge records it exactly as if the script
 * had made it then (the cache cannot change in between: nothing crossed). An
 * answer the script never asked for is dropped at the end of the run,
 * unrecorded and unseen. The sandbox gets each answer's value text (without
 * its 'v' frame) and parses it itself (bridge.py).
 *
 * Must never hand the sandbox an answer the bridge did not give through
 * peek(), and must never skip reporting a taken answer to taken() or call().
 */
import type { HostBridge } from '../host/host-engine';
import { FRAME_VALUE } from '../protocol';

/**
 * Requests remembered per script and arguments; at most this many per run,
 * each at most MAX_REQUEST chars. The sandbox reports a request it took as
 * the character whose code is its index among those handed over: this must
 * stay below 0xd800 (no surrogates).
 */
const MAX_REQUESTS = 128;
const MAX_REQUEST = 4096;
/** Characters of requests remembered in all (the least recently run script and arguments go first). */
const MAX_MEMORY = 1 << 20;
/** Characters of answers handed over per run. */
const MAX_PREFETCH = 256 * 1024;
/**
 * The sandbox frames texts with NUL, and frames what it reports with lengths
 * in code points: a request holding NUL or a UTF-16 surrogate is never
 * remembered, an answer holding NUL never handed over.
 */
const UNFRAMEABLE = /[\0\ud800-\udfff]/;

export class Prefetch {
  /** A number per compiled script, for naming it in `memory`. */
  private readonly tags = new WeakMap<object, number>();
  private nextTag = 0;
  /** Script tag + ':' + arguments (JSON text) -> the requests its last run made, first use first; oldest first. */
  private readonly memory = new Map<string, { readonly requests: string[]; readonly chars: number }>();
  private memoryChars = 0;
  /** The run in progress: its bridge, the requests handed over (in order: the sandbox reports indices), and those it makes. */
  private bridge: HostBridge | undefined;
  private handed: string[] = [];
  private made = new Set<string>();

  /**
   * Starts a run: the answers to hand the sandbox ('' for none). Only the
   * leading requests the bridge can answer are handed over: a deterministic
   * script repeats its requests in order, and the first one that crosses
   * ends the prefetch anyway.
   */
  begin(script: object, args: string, bridge: HostBridge): string {
    this.bridge = bridge;
    this.handed = [];
    this.made = new Set();
    const requests = this.memory.get(this.name(script, args))?.requests;
    if (requests === undefined || bridge.peek === undefined) return '';
    const texts: string[] = [];
    let size = 0;
    for (const request of requests) {
      const answer = bridge.peek(request);
      // A value's JSON text never holds NUL; checked all the same, the framing depends on it.
      if (
        answer === undefined ||
        answer[0] !== FRAME_VALUE ||
        answer.includes('\0') ||
        size + answer.length > MAX_PREFETCH
      )
        break;
      size += answer.length;
      this.handed.push(request);
      // The value's text without its frame: the sandbox parses them all at once (bridge.py).
      texts.push(request, answer.slice(1));
    }
    return texts.join('\0');
  }

  /**
   * The sandbox reported the prefetched requests the script took, one
   * character each (its code: the request's index among those handed over;
   * a string of them crosses far cheaper than the requests' texts): each goes
   * through the bridge's taken() (or call()) now, in order, so the bridge
   * records the read.
   */
  taken(indices: string): void {
    const bridge = this.bridge;
    if (bridge !== undefined) {
      for (let i = 0; i < indices.length; i++) {
        const request = this.handed[indices.charCodeAt(i)];
        if (request === undefined) continue;
        if (bridge.taken !== undefined) bridge.taken(request);
        else bridge.call(request);
        // Checked when it was first remembered.
        if (this.made.size < MAX_REQUESTS) this.made.add(request);
      }
    }
    // The sandbox drops the rest of the prefetch with every report.
    this.handed = [];
  }

  /** A request that crossed (a miss, a write, anything): remembered for the next run with these arguments. */
  crossed(request: string): void {
    this.remember(request);
  }

  /** Ends the run: what it asked for is what the next run with these arguments gets prefetched. */
  end(script: object, args: string): void {
    this.bridge = undefined;
    this.handed = [];
    const name = this.name(script, args);
    const old = this.memory.get(name);
    if (old !== undefined) {
      this.memory.delete(name);
      this.memoryChars -= old.chars;
    }
    if (this.made.size > 0 && args.length <= MAX_REQUEST) {
      const requests = [...this.made];
      const chars = requests.reduce((sum, r) => sum + r.length, name.length);
      this.memory.set(name, { requests, chars });
      this.memoryChars += chars;
      for (const [oldest, entry] of this.memory) {
        if (this.memoryChars <= MAX_MEMORY) break;
        this.memory.delete(oldest);
        this.memoryChars -= entry.chars;
      }
    }
    this.made = new Set();
  }

  /** Forgets what a script asked for (the host dropped it). */
  forget(script: object): void {
    const tag = this.tags.get(script);
    if (tag === undefined) return;
    const prefix = `${tag}:`;
    for (const [name, entry] of this.memory) {
      if (!name.startsWith(prefix)) continue;
      this.memory.delete(name);
      this.memoryChars -= entry.chars;
    }
  }

  private name(script: object, args: string): string {
    let tag = this.tags.get(script);
    if (tag === undefined) this.tags.set(script, (tag = this.nextTag++));
    return `${tag}:${args}`;
  }

  private remember(request: string): void {
    if (this.made.size < MAX_REQUESTS && request.length <= MAX_REQUEST && !UNFRAMEABLE.test(request))
      this.made.add(request);
  }
}
