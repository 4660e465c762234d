/**
 * A pool of engine host processes for one language, presented as a
 * ScriptEngine. Runs take an idle host (or wait for one); the pool enforces
 * the wall-clock deadline and the memory cap from outside by killing the
 * host, then starts a replacement in the background while the other hosts
 * keep serving, so a runaway script costs its own caller, never the others.
 */
import type { CompiledMessage, DoneMessage, ScriptFailure } from '../../engines/protocol';
import { LucienError } from '../errors';
import type { Logger } from '../log';
import type { HostLoss } from '../observe/observer';
import type { BridgeHandler, EngineRunRequest, EngineRunResult, HostStates, PreloadScript, ScriptEngine } from './script-engine';
import { HostExitedError, HostProcess, type HostSpec } from './host-process';
import { treeResidentBytes } from './confinement';

/** What a host answers when asked to run a key it no longer has compiled (engines/host/run-host.ts). */
const NOT_COMPILED = 'script is not compiled in this host';

export interface PoolOptions {
  readonly size: number;
  /** Resident memory a host may reach during a run before it is killed. */
  readonly memoryLimitBytes: number;
  readonly compileTimeoutMs: number;
  /** Told when a host is lost (and will be replaced), with why. */
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

  async preload(scripts: readonly PreloadScript[]): Promise<void> {
    this.preloads = scripts;
    if (scripts.length === 0) return;
    const hosts = this.idle.splice(0);
    await Promise.all(
      hosts.map(async (host) => {
        try {
          for (const script of scripts) await this.compileWithin(host, script.name, script.source, script.key);
        } finally {
          this.release(host);
        }
      }),
    );
  }

  async validate(name: string, source: string): Promise<void> {
    const host = await this.acquire(Date.now() + this.options.compileTimeoutMs);
    try {
      const compiled = await this.compileWithin(host, name, source);
      if (!compiled.ok) throw failureError(name, compiled.error, []);
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
            this.options.onHostLost?.(this.name, 'compile_timeout');
            host.kill();
            reject(new LucienError('SCRIPT_TIMEOUT', `compiling script "${name}" took longer than ${this.options.compileTimeoutMs} ms`));
          }, this.options.compileTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async run(request: EngineRunRequest, bridge: BridgeHandler): Promise<EngineRunResult> {
    const deadline = Date.now() + request.timeoutMs;
    const host = await this.acquire(deadline, request.retry === true);
    let killedFor: 'time' | 'memory' | undefined;
    const kill = (reason: 'time' | 'memory') => {
      killedFor ??= reason;
      host.kill();
    };
    const timer = setTimeout(() => kill('time'), Math.max(0, deadline - Date.now()));
    const memoryTimer = setInterval(() => {
      void treeResidentBytes(host.pid).then((rss) => {
        if (rss > this.options.memoryLimitBytes) kill('memory');
      });
    }, MEMORY_POLL_MS);
    let done: DoneMessage;
    try {
      const send = (withSource: boolean) =>
        host.run({ key: request.key, name: request.name, source: withSource ? request.source : undefined, args: request.args, limits: request.limits }, bridge);
      done = await send(!host.compiledKeys.has(request.key));
      // The host's compiled-script cache is bounded: a key it evicted (after many other
      // scripts or Eval sources) is sent again with its source. The run did not start.
      if (!done.ok && done.error.type === 'HostError' && done.error.message === NOT_COMPILED) {
        host.compiledKeys.delete(request.key);
        done = await send(true);
      }
    } catch (err) {
      host.kill();
      this.options.onHostLost?.(this.name, killedFor === 'time' ? 'timeout' : killedFor ?? 'crash');
      if (killedFor === 'time') throw new LucienError('SCRIPT_TIMEOUT', `script "${request.name}" exceeded its time limit; nothing was written`);
      if (killedFor === 'memory') {
        throw new LucienError('SCRIPT_MEMORY', `script "${request.name}" exceeded the memory limit of ${Math.round(this.options.memoryLimitBytes / 2 ** 20)} MiB; nothing was written`);
      }
      if (err instanceof HostExitedError) {
        this.log.warn('engine host died during a run', { engine: this.name, script: request.name, exit: err.exit.code, signal: err.exit.signal, stderr: err.exit.stderr.slice(-500) });
        throw new LucienError('SCRIPT_MEMORY', `script "${request.name}" ended its engine host (out of memory or a fatal engine error); nothing was written`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      clearInterval(memoryTimer);
      this.release(host);
    }
    if (!done.ok) throw failureError(request.name, done.error, done.logs);
    return { result: done.result, logs: done.logs };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const host of this.all) host.kill();
    await Promise.all([...this.all].map((h) => h.exited));
  }

  hostStates(): HostStates {
    return { starting: this.starting, idle: this.idle.length, busy: this.all.size - this.idle.length, pids: this.pids };
  }

  /** Processes currently alive (for health and memory figures). */
  get pids(): number[] {
    return [...this.all].map((h) => h.pid).filter((p): p is number => p !== undefined);
  }

  private async acquire(deadline: number, first = false): Promise<HostProcess> {
    for (;;) {
      const host = this.idle.pop();
      if (host === undefined) break;
      if (host.alive) return host;
    }
    if (this.closed) throw new LucienError('UNAVAILABLE', 'the server is shutting down');
    if (this.all.size + this.starting === 0) void this.startHost().catch(() => undefined);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = (host) => {
        clearTimeout(timer);
        resolve(host);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new LucienError('SCRIPT_TIMEOUT', `no ${this.name} engine became free before the time limit; nothing was written`));
      }, Math.max(0, deadline - Date.now()));
      if (first) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
    });
  }

  private release(host: HostProcess): void {
    if (!host.alive) {
      this.all.delete(host);
      if (!this.closed) void this.replace();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(host);
    else this.idle.push(host);
  }

  /** Starts a replacement host, backing off if hosts keep failing to start. */
  private async replace(): Promise<void> {
    if (this.closed || this.all.size + this.starting >= this.options.size) return;
    if (this.failures > 0) await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** this.failures)));
    // Closed while backing off: no new host after close().
    if (this.closed) return;
    try {
      await this.startHost();
    } catch (err) {
      this.log.error('engine host failed to start', { engine: this.name, error: (err as Error).message });
      void this.replace();
    }
  }

  private async startHost(): Promise<void> {
    this.starting++;
    try {
      const host = await HostProcess.start(this.spec);
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
      void host.exited.then(() => {
        // A host that dies while idle (it should not) is dropped and replaced.
        const i = this.idle.indexOf(host);
        if (i >= 0) {
          this.options.onHostLost?.(this.name, 'crash');
          this.idle.splice(i, 1);
          this.all.delete(host);
          if (!this.closed) void this.replace();
        }
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

function failureError(name: string, failure: ScriptFailure, logs: readonly string[]): LucienError {
  const where = failure.line !== undefined ? ` (line ${failure.line})` : '';
  const text = `${failure.type}: ${failure.message}${where}`;
  switch (failure.kind) {
    case 'syntax':
      return new LucienError('SCRIPT_SYNTAX', `script "${name}" does not compile: ${text}`, { line: failure.line, logs });
    case 'memory':
      return new LucienError('SCRIPT_MEMORY', `script "${name}" ran out of memory: ${text}; nothing was written`, { line: failure.line, logs });
    case 'limit':
      return new LucienError('SCRIPT_LIMIT', `script "${name}" hit a limit: ${text}; nothing was written`, { line: failure.line, logs });
    default:
      return new LucienError('SCRIPT_ERROR', `script "${name}" raised ${text}; nothing was written`, { line: failure.line, logs });
  }
}
