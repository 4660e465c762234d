/**
 * How the etcd backend rides out a member that dies, hangs or loses its
 * leader: a gate per member that etcd3's pool consults before each call (a
 * member that just failed is skipped for a cool-down, so calls go to the
 * others at once), a deadline on every attempt (a hung member costs one
 * attempt, not the caller's whole wait), and one retry loop bounded by the
 * failover window. What may be retried is the caller's business: reads always,
 * commits only through the fenced protocol in etcd.ts. This file must never
 * decide that a commit is safe to repeat, and never talk to etcd itself.
 */
import type { IOptions } from 'etcd3';
import { isRecoverableError } from 'etcd3';
import { isLucienError } from '../errors';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['host']> extends (host: string) => infer P ? P : never;
type Backoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

export interface FailoverOptions {
  /** One attempt's deadline: a member that has not answered by then is given up on for this call. */
  readonly attemptTimeoutMs: number;
  /** How long a call keeps retrying on other members before its error reaches the caller. */
  readonly windowMs: number;
  /** How long a member that failed is skipped while another member is still in good standing. */
  readonly cooldownMs: number;
}

export const DEFAULT_FAILOVER: FailoverOptions = { attemptTimeoutMs: 1000, windowMs: 5000, cooldownMs: 1000 };

/** Thrown by a gate that skips its member; etcd3's pool then tries the next member. */
class MemberSkipped extends Error {
  constructor(host: string) {
    super(`etcd member ${host} failed recently and is skipped`);
  }
}

/** A stream that went quiet for longer than it should (a hung member); another attempt may help. */
export class EtcdStalled extends Error {}

/**
 * One gate per member. A member whose call fails with a network or server
 * error is skipped for cooldownMs, unless every member is in that state (then
 * every call goes through: some member must be tried). A success clears it.
 */
export class MemberGates {
  private readonly failedUntil = new Map<string, number>();

  constructor(private readonly cooldownMs: number) {}

  /** etcd3's faultHandling.host: the policy guarding one member. */
  readonly policy = (host: string): Policy => {
    this.watch(host);
    return {
      _altReturn: undefined as never,
      onSuccess: () => ({ dispose: () => undefined }),
      onFailure: () => ({ dispose: () => undefined }),
      execute: async (fn, signal) => {
        if (this.skipped(host)) throw new MemberSkipped(host);
        return this.run(host, async () => fn({ signal: signal ?? new AbortController().signal }));
      },
    };
  };

  /** Adds a member to those the gates know (every client's members are the same ones). */
  watch(host: string): void {
    if (!this.failedUntil.has(host)) this.failedUntil.set(host, 0);
  }

  /** Runs one call on `host`: a network or server error starts its cool-down, a success ends it. */
  async run<T>(host: string, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.failedUntil.set(host, 0);
      return result;
    } catch (err) {
      if (err instanceof Error && isRecoverableError(err)) this.failedUntil.set(host, Date.now() + this.cooldownMs);
      throw err;
    }
  }

  /** Members currently skipped (for logs and tests). */
  failing(): string[] {
    const now = Date.now();
    return [...this.failedUntil].filter(([, until]) => until > now).map(([host]) => host);
  }

  /** Whether `host` failed within its cool-down while some other member is in good standing. */
  skipped(host: string): boolean {
    const now = Date.now();
    if ((this.failedUntil.get(host) ?? 0) <= now) return false;
    for (const until of this.failedUntil.values()) if (until <= now) return true;
    return false;
  }
}

/** etcd3's watch reconnect backoff: constant and short (its default grows to 30 s). */
export function watchBackoff(ms: number): Backoff {
  const backoff: Backoff = { duration: ms, next: () => backoff };
  return backoff;
}

/**
 * Whether another attempt (on another member) may help: network and server
 * errors, deadlines and skipped members do; a LucienError (a failed
 * condition, a limit) or anything etcd refused on its merits does not.
 */
export function isTransient(err: unknown): boolean {
  if (isLucienError(err) || !(err instanceof Error)) return false;
  if (err instanceof MemberSkipped || err instanceof EtcdStalled) return true;
  if (isRefusal(err)) return false;
  return isRecoverableError(err);
}

/** etcd refused the request on its merits (compacted revision, over its limits): no member would take it. */
export function isRefusal(err: unknown): boolean {
  if (isLucienError(err)) return true;
  return err instanceof Error && /compacted|too many operations|request is too large|larger than max/.test(err.message);
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the window closes;
 * each attempt gets a deadline (epoch ms) to pass to its etcd calls. Waits a
 * little between attempts (25 ms doubling to 200 ms): during an election
 * every member refuses writes for about a second.
 */
export async function withFailover<T>(
  options: FailoverOptions,
  attempt: (deadline: number, n: number) => Promise<T>,
): Promise<T> {
  const until = Date.now() + options.windowMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt(Math.min(until, Date.now() + options.attemptTimeoutMs), n);
    } catch (err) {
      const pause = Math.min(200, 25 * 2 ** (n - 1));
      if (!isTransient(err) || Date.now() + pause >= until) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
