/**
 * A pool of engine host processes for one language, presented as a
 * ScriptEngine. Runs take an idle host (or wait for one, in order, within
 * their deadline); the pool enforces the deadline, the memory cap and the
 * caller's cancellation from outside by killing the host, then starts a
 * replacement in the background while the other hosts keep serving, so a
 * runaway or abandoned script costs its own caller, never the others.
 *
 * A host is checked before every dispatch and never handed on once it died,
 * was killed, broke the protocol or said it will exit. Each failure is
 * reported to the run that met it, with its own code (failure-codes.ts).
 * Must never know about storage: bridge calls go to the caller's handler.
 */
import type { CacheSync, CompiledMessage, DoneMessage } from '../../engines/protocol';
import { LucienError } from '../errors';
import type { Logger } from '../log';
import type { HostLoss } from '../observe/observer';
import type {
  BridgeHandler,
  EngineRunRequest,
  EngineRunResult,
  HostStates,
  PreloadScript,
  ScriptEngine,
} from './script-engine';
import { HostExitedError, HostProcess, type HostSpec } from './host-process';
import { treeResidentBytes } from './confinement';
import { failureError, lostHostError, type KillReason } from './failure-codes';

export interface PoolOptions {
  readonly size: number;
  /** Resident memory a host may reach during a run before it is killed. */
  readonly memoryLimitBytes: number;
  readonly compileTimeoutMs: number;
  /** Compiled scripts one host keeps (the pool preloads at most this many). */
  readonly scriptCache: number;
  /** Told when a host is lost (and will be replaced), with why (metrics). */
  readonly onHostLost?: (engine: string, reason: HostLoss) => void;
}

const MEMORY_POLL_MS = 50;

type Waiter = (host: HostProcess) => void;

export class EnginePool implements ScriptEngine {
  readonly name: string;
  private readonly idle: HostProcess[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly all = new Set<HostProcess>();
  private starting = 0;
  private closed = false;
  private failures = 0;
  /** The background start of the hosts after the first (warm()). */
  private complete: Promise<void> = Promise.resolve();
  /** Compiled into every host that starts from now on, before its first run. */
  private preloads: readonly PreloadScript[] = [];
  /** Hosts the pool killed for a compile past the limit (so their loss is counted as that). */
  private readonly compileKilled = new WeakSet<HostProcess>();

  constructor(
    private readonly spec: HostSpec,
    private readonly options: PoolOptions,
    private readonly log: Logger,
  ) {
    this.name = spec.engine;
  }

  /**
   * Resolves once one host is ready; the rest of the pool starts after it, in
   * the background. Started together, cold hosts share the cores and each
   * takes longer (Pyodide: ~3.8 s for two at once vs ~2.9 s for one on 2
   * cores), so one at a time gives the first runs a warm host sooner.
   */
  async warm(): Promise<void> {
    const started = Date.now();
    const wanted = this.options.size - this.all.size - this.starting;
    if (wanted <= 0) return;
    await this.startHost();
    this.log.info('engine warm', { engine: this.name, hosts: this.all.size, ms: Date.now() - started });
    this.complete = (async () => {
      for (let i = 1; i < wanted && !this.closed; i++) {
        await this.startHost().catch((err: Error) => {
          if (this.closed) return;
          this.log.error('engine host failed to start', { engine: this.name, error: err.message });
          void this.replace();
        });
      }
      this.log.info('engine pool complete', { engine: this.name, hosts: this.all.size, ms: Date.now() - started });
    })();
  }

  /** Resolves once the background start of the rest of the pool is over (for tests and the bench). */
  whenComplete(): Promise<void> {
    return this.complete;
  }

  /** Compiles scripts into every idle host (the most recent ones, as many as a host keeps). */
  async preload(scripts: readonly PreloadScript[]): Promise<void> {
    this.preloads = scripts.slice(-this.options.scriptCache);
    if (this.preloads.length === 0) return;
    const hosts = this.idle.splice(0);
    await Promise.all(
      hosts.map(async (host) => {
        try {
          for (const script of this.preloads) await this.compileWithin(host, script.name, script.source, script.key);
        } finally {
          this.release(host);
        }
      }),
    );
  }

  async validate(name: string, source: string): Promise<void> {
    const host = await this.acquire(Date.now() + this.options.compileTimeoutMs, false, undefined, name);
    try {
      const compiled = await this.compileWithin(host, name, source);
      if (!compiled.ok) throw failureError(name, compiled.error, []);
    } catch (err) {
      if (err instanceof HostExitedError)
        throw lostHostError(name, err, undefined, this.options.memoryLimitBytes, 'validate');
      throw err;
    } finally {
      this.release(host);
    }
  }

  /** Compiles on `host` (keeping it under `key` if given); a compile past the limit kills the host. */
  private async compileWithin(host: HostProcess, name: string, source: string, key?: string): Promise<CompiledMessage> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        host.compile(name, source, key),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.compileKilled.add(host);
            host.kill();
            reject(
              new LucienError(
                'SCRIPT_TIMEOUT',
                `compiling script "${name}" took longer than ${this.options.compileTimeoutMs} ms`,
              ),
            );
          }, this.options.compileTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async run(request: EngineRunRequest, bridge: BridgeHandler): Promise<EngineRunResult> {
    const deadline = request.deadline ?? Date.now() + request.timeoutMs;
    try {
      return await this.runOnce(request, bridge, deadline);
    } catch (err) {
      // A host found dead before it answered anything (killed between the liveness check and the dispatch)
      // never ran the script: the run goes to another host, once.
      if (err instanceof LostBeforeStart) return this.runOnce(request, bridge, deadline, true);
      throw err;
    }
  }

  private async runOnce(
    request: EngineRunRequest,
    bridge: BridgeHandler,
    deadline: number,
    again = false,
  ): Promise<EngineRunResult> {
    const queuedAt = Date.now();
    const host = await this.acquire(deadline, again || request.retry === true, request.signal, request.name);
    const startedAt = Date.now();
    let killedFor: KillReason | undefined;
    const kill = (reason: KillReason) => {
      killedFor ??= reason;
      host.kill();
    };
    // The caller's own deadline passing is the caller going away, as a cancel is.
    const timer = setTimeout(
      () => kill(request.callersDeadline === true ? 'cancel' : 'time'),
      Math.max(0, deadline - Date.now()),
    );
    const memoryTimer = setInterval(() => {
      void treeResidentBytes(host.pid).then((rss) => {
        if (rss > this.options.memoryLimitBytes) kill('memory');
      });
    }, MEMORY_POLL_MS);
    const onAbort = () => kill('cancel');
    request.signal?.addEventListener('abort', onAbort);
    // Aborted between getting the host and listening: stop now (the kill fails the run below).
    if (request.signal?.aborted === true) kill('cancel');
    let done: DoneMessage;
    /** The store failed while the run was prepared (its snapshot): the host did nothing and goes back to the pool. */
    let unsent: unknown;
    try {
      // The host's read cache is brought to the run's snapshot on the run message itself; nothing awaits after this.
      let cache: CacheSync | undefined;
      try {
        cache = request.cache === undefined ? undefined : await request.cache.sync(host);
      } catch (err) {
        unsent = err;
        throw err;
      }
      // A host that lacks the compiled script answers `missing` and HostProcess sends the run again with its
      // source; the cache sync it carries again is the same revision and keys, a no-op.
      done = await host.run(
        {
          key: request.key,
          name: request.name,
          source: request.source,
          args: request.args,
          limits: request.limits,
          cache,
        },
        bridge,
      );
      if (done.ok) request.cache?.record(done.cached);
    } catch (err) {
      // The store failed while the run was prepared: the host did nothing and goes back to the pool.
      if (unsent !== undefined && err === unsent && killedFor === undefined) throw err;
      if (!(err instanceof HostExitedError)) throw err;
      host.kill();
      const timing = { queuedMs: startedAt - queuedAt, ranMs: Date.now() - startedAt };
      if (killedFor === undefined) {
        this.log.warn('engine host died during a run', {
          engine: this.name,
          script: request.name,
          exit: err.exit.code,
          signal: err.exit.signal,
          breach: err.breach,
          stderr: err.exit.stderr.slice(-500),
        });
      }
      const lost = lostHostError(request.name, err, killedFor, this.options.memoryLimitBytes, timing);
      if (lost.code === 'ENGINE_LOST' && host.framesThisRun === 0 && !again) throw new LostBeforeStart(lost);
      throw lost;
    } finally {
      clearTimeout(timer);
      clearInterval(memoryTimer);
      request.signal?.removeEventListener('abort', onAbort);
      this.release(host, killedFor);
    }
    if (!done.ok) throw failureError(request.name, done.error, done.logs);
    return { result: done.result, logs: done.logs };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const host of this.all) host.kill();
    await Promise.all([...this.all].map((h) => h.exited));
  }

  /** Processes currently alive (for health and memory figures). */
  get pids(): number[] {
    return [...this.all].map((h) => h.pid).filter((p): p is number => p !== undefined);
  }

  /** Hosts by state, now (metrics read this when scraped). */
  hostStates(): HostStates {
    return { starting: this.starting, idle: this.idle.length, busy: this.all.size - this.idle.length, pids: this.pids };
  }

  /** Runs waiting for a host. */
  get queued(): number {
    return this.waiters.length;
  }

  /**
   * An idle host that is alive, or the first one released to this caller
   * before `deadline`. A caller whose signal aborts leaves the queue at once
   * and never starts.
   */
  private async acquire(
    deadline: number,
    first: boolean,
    signal: AbortSignal | undefined,
    script: string,
  ): Promise<HostProcess> {
    if (signal?.aborted === true) throw cancelledError(script, 'queued');
    for (;;) {
      const host = this.idle.pop();
      if (host === undefined) break;
      if (host.alive) return host;
      this.drop(host, 'exited');
    }
    if (this.closed) throw new LucienError('UNAVAILABLE', 'the server is shutting down');
    if (this.all.size + this.starting === 0) void this.replace();
    const queuedAt = Date.now();
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      const waiter: Waiter = (host) => {
        leave();
        resolve(host);
      };
      const onAbort = () => {
        leave();
        reject(cancelledError(script, 'queued'));
      };
      const timer = setTimeout(
        () => {
          leave();
          reject(
            new LucienError(
              'SCRIPT_TIMEOUT',
              `script "${script}" waited ${Date.now() - queuedAt} ms in the queue for a free ${this.name} engine and never started before its deadline; nothing was written`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      signal?.addEventListener('abort', onAbort);
      if (first) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
    });
  }

  private release(host: HostProcess, killedFor?: KillReason): void {
    if (!host.alive) {
      this.drop(host, killedFor ?? (host.breach !== undefined ? 'protocol' : host.retired ? 'retired' : 'exited'));
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(host);
    else this.idle.push(host);
  }

  /** Forgets a host that can serve no more (killing it if it still runs) and starts its replacement. */
  private drop(host: HostProcess, reason: KillReason | 'exited' | 'retired'): void {
    if (!this.all.delete(host)) return;
    const i = this.idle.indexOf(host);
    if (i >= 0) this.idle.splice(i, 1);
    host.kill();
    if (!this.closed) {
      this.options.onHostLost?.(this.name, this.compileKilled.has(host) ? 'compile_timeout' : LOSS[reason]);
      void this.replace();
    }
  }

  /** Starts a replacement host, backing off if hosts keep failing to start. */
  private async replace(): Promise<void> {
    if (this.closed || this.all.size + this.starting >= this.options.size) return;
    if (this.failures > 0) await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** this.failures)));
    // Closed while backing off: no new host after close().
    if (this.closed || this.all.size + this.starting >= this.options.size) return;
    try {
      await this.startHost();
    } catch (err) {
      // A start cut short by close() is no failure worth a word.
      if (this.closed) return;
      this.log.error('engine host failed to start', { engine: this.name, error: (err as Error).message });
      void this.replace();
    }
  }

  private async startHost(): Promise<void> {
    this.starting++;
    try {
      const host = await HostProcess.start(this.spec, { scriptCache: this.options.scriptCache });
      try {
        for (const script of this.preloads) {
          if (this.closed) break;
          await this.compileWithin(host, script.name, script.source, script.key);
        }
      } catch (err) {
        host.kill();
        throw err;
      }
      this.failures = 0;
      if (this.closed) {
        host.kill();
        return;
      }
      this.all.add(host);
      // A host that dies while idle (killed from outside) is dropped and replaced at once.
      void host.exited.then(() => {
        if (this.idle.includes(host)) this.drop(host, 'exited');
      });
      this.release(host);
    } catch (err) {
      this.failures++;
      throw err;
    } finally {
      this.starting--;
    }
  }
}

/** Why a host was lost, as metrics label it. */
const LOSS: Record<KillReason | 'exited' | 'retired', HostLoss> = {
  time: 'timeout',
  memory: 'memory',
  cancel: 'cancelled',
  protocol: 'protocol',
  exited: 'crash',
  retired: 'crash',
};

/** A run's host was lost before it sent a single frame for it: the script never started. */
class LostBeforeStart extends Error {
  constructor(readonly lost: LucienError) {
    super(lost.message);
  }
}

function cancelledError(script: string, when: 'queued' | 'running'): LucienError {
  return new LucienError(
    'CANCELLED',
    `script "${script}" was cancelled by its caller while ${when}; nothing was written`,
  );
}
