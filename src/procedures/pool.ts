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
 *
 * A short run expected to write nothing may be sent to a host still finishing
 * another (pool-pipeline.ts says when); its limits are watched from the
 * moment the host starts it.
 *
 * Its parts: pool-queue.ts (the runs waiting for a host), pool-guard.ts (the
 * limits, enforced by killing), pool-run.ts (one run on a host),
 * pool-pipeline.ts (when a run may wait in a host's pipe) and pool-errors.ts
 * (its errors and loss labels).
 */
import type { CompiledMessage } from '../../engines/protocol';
import { LucienError } from '../errors';
import type { Logger } from '../log';
import type { HostLoss } from '../observe/observer';
import type {
  BridgeHandler,
  CancelSignal,
  EngineRunRequest,
  EngineRunResult,
  HostStates,
  PreloadScript,
  ScriptEngine,
} from './script-engine';
import { HostProcess, type HostSpec } from './host-process';
import { HostExitedError } from './host-exit';
import { failureError, lostHostError, type KillReason } from './failure-codes';
import { cancelledError, LOSS, LostBeforeStart } from './pool-errors';
import { HostQueue } from './pool-queue';
import { compileWithin, RunWatch } from './pool-guard';
import { type PipelineRequest, Pipelining } from './pool-pipeline';
import { type PoolSide, runInPool } from './pool-run';

export interface PoolOptions {
  readonly size: number;
  /** Resident memory a host may reach during a run before it is killed. */
  readonly memoryLimitBytes: number;
  readonly compileTimeoutMs: number;
  /** Compiled scripts one host keeps (the pool preloads at most this many). */
  readonly scriptCache: number;
  /** Told when a host is lost (and will be replaced), with why (metrics). */
  readonly onHostLost?: (engine: string, reason: HostLoss) => void;
  /** A run may be sent behind another only if that one is this quick (pool-pipeline.ts); 0: never. */
  readonly pipelineBehindMs?: number;
}

export class EnginePool implements ScriptEngine {
  readonly name: string;
  private readonly idle: HostProcess[] = [];
  /** Runs waiting for a host, in order. */
  private readonly queue = new HostQueue();
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
  /** Deadlines, memory caps and cancellations of the runs in progress. */
  private readonly watch: RunWatch;
  /** Each host's load, and when a run may be sent behind another. */
  private readonly pipelining: Pipelining;
  /** What one run needs of the pool (pool-run.ts). */
  private readonly side: PoolSide;

  constructor(
    private readonly spec: HostSpec,
    private readonly options: PoolOptions,
    private readonly log: Logger,
  ) {
    this.name = spec.engine;
    this.watch = new RunWatch(options.memoryLimitBytes);
    this.pipelining = new Pipelining(options.pipelineBehindMs);
    this.side = {
      engine: this.name,
      log: this.log,
      memoryLimitBytes: options.memoryLimitBytes,
      watch: this.watch,
      pipelining: this.pipelining,
      acquire: (deadline, first, signal, script, request) => this.acquire(deadline, first, signal, script, request),
      release: (host, killedFor) => this.release(host, killedFor),
      offerBehind: (host) => this.offerBehind(host),
    };
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
          for (const script of this.preloads) await this.compileOn(host, script.name, script.source, script.key);
        } finally {
          this.release(host);
        }
      }),
    );
  }

  async validate(name: string, source: string): Promise<void> {
    const host = await this.acquire(Date.now() + this.options.compileTimeoutMs, false, undefined, name);
    try {
      const compiled = await this.compileOn(host, name, source);
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
  private compileOn(host: HostProcess, name: string, source: string, key?: string): Promise<CompiledMessage> {
    return compileWithin(host, name, source, key, this.options.compileTimeoutMs, () => this.compileKilled.add(host));
  }

  async run(request: EngineRunRequest, bridge: BridgeHandler): Promise<EngineRunResult> {
    const deadline = request.deadline ?? Date.now() + request.timeoutMs;
    try {
      return await this.runOnce(request, bridge, deadline);
    } catch (err) {
      // A host lost before it answered anything for the run (killed between the liveness check and the
      // dispatch, or while the run waited behind another) never ran the script: it goes to another host, once.
      if (err instanceof LostBeforeStart) return this.runOnce(request, bridge, deadline, true);
      throw err;
    }
  }

  private runOnce(
    request: EngineRunRequest,
    bridge: BridgeHandler,
    deadline: number,
    again = false,
  ): Promise<EngineRunResult> {
    return runInPool(this.side, request, bridge, deadline, again);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watch.close();
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
    return this.queue.length;
  }

  /**
   * An idle host that is alive, or the first one released to this caller
   * before `deadline`. A caller whose signal aborts leaves the queue at once
   * and never starts.
   */
  private async acquire(
    deadline: number,
    first: boolean,
    signal: CancelSignal | undefined,
    script: string,
    request?: PipelineRequest,
  ): Promise<HostProcess> {
    if (signal?.aborted === true) throw cancelledError(script, 'queued');
    for (;;) {
      const host = this.idle.pop();
      if (host === undefined) break;
      if (host.alive) {
        this.pipelining.taken(host);
        return host;
      }
      this.drop(host, 'exited');
    }
    if (this.closed) throw new LucienError('UNAVAILABLE', 'the server is shutting down');
    if (this.all.size + this.starting === 0) void this.replace();
    // No idle host: behind a short run on a busy one, if this run may wait there and nobody waits before it.
    if (request !== undefined && !first && this.queue.length === 0) {
      for (const host of this.all) {
        if (!this.pipelining.canQueueBehind(host, request)) continue;
        this.pipelining.taken(host);
        return host;
      }
    }
    // The host's load is counted when it is handed over (release), before this resumes.
    return this.queue.wait(Date.now(), deadline, first, signal, script, this.name, request);
  }

  private release(host: HostProcess, killedFor?: KillReason): void {
    if (this.pipelining.given(host) > 0) {
      // Another run is still on the host (sent behind this one): it stays busy, but the first waiter may
      // take this run's place behind it.
      this.offerBehind(host);
      return;
    }
    // A host going back to idle is checked in full when acquired; one handed straight to a waiting run, now.
    if (this.queue.length > 0 ? !host.alive : !host.usable) {
      this.drop(host, killedFor ?? (host.breach !== undefined ? 'protocol' : host.retired ? 'retired' : 'exited'));
      return;
    }
    if (this.queue.handOver(host)) this.pipelining.taken(host);
    else this.idle.push(host);
  }

  /** Hands `host`, busy with one run, to the first waiting run if it may be sent behind that one. */
  private offerBehind(host: HostProcess): void {
    if (this.queue.length > 0 && this.queue.handOverBehind(host, (r) => this.pipelining.canQueueBehind(host, r)))
      this.pipelining.taken(host);
  }

  /** Forgets a host that can serve no more (killing it if it still runs) and starts its replacement. */
  private drop(host: HostProcess, reason: KillReason | 'exited' | 'retired'): void {
    if (!this.all.delete(host)) return;
    this.pipelining.forget(host);
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
          await this.compileOn(host, script.name, script.source, script.key);
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
