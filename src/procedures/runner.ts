/**
 * Run: load a script, execute it in its engine against a fresh transaction,
 * commit the buffered writes guarded by everything it read, and re-run on a
 * conflict (bounded, with jitter) until it commits or fails with ABORTED.
 * Read-only runs and dry runs never commit, so they never conflict. A run
 * that raises, times out or dies writes nothing: writes exist only in the
 * transaction until the single commit at the end. What a run takes and gives
 * (and the check of its args) is in run-input.ts; Eval's source check in
 * eval-source.ts.
 */
import { isLucienError, LucienError } from '../errors';
import type { Logger } from '../log';
import type { Store } from '../storage/store';
import {
  bridgeOp,
  type BridgeCounts,
  emptyBridgeCounts,
  NO_OBSERVER,
  type Observer,
  outcomeOf,
  type RunOutcome,
  type RunReport,
} from '../observe/observer';
import { RunTransaction } from './run-transaction';
import { CommitGate } from './commit-gate';
import { ScriptTurns } from './script-turns';
import { type ScriptCatalog, scriptKey } from './catalog';
import type { EngineRegistry, RunCache } from './script-engine';
import type { InvalidationFeed } from './invalidation-feed';
import {
  type CallerContext,
  asCallersRefusal,
  checkArgs,
  checkResult,
  type EvalInput,
  type Runnable,
  type RunInput,
  type RunnerLimits,
  type RunOutput,
} from './run-input';
import { evalRunnable } from './eval-source';
import { SharedSnapshots } from './shared-snapshot';

/** What a run did so far, for its report: filled in as it goes. */
interface RunTrace {
  engine: string | undefined;
  attempts: number;
  readonly calls: BridgeCounts;
  readonly started: number;
}

const newTrace = (): RunTrace => ({
  engine: undefined,
  attempts: 0,
  calls: emptyBridgeCounts(),
  started: performance.now(),
});

/** Scripts whose last run's writes are remembered; beyond it the record starts afresh. */
const MAX_NOTED_SCRIPTS = 4096;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ScriptRunner {
  /** The runs' snapshots: one shared between commits (shared-snapshot.ts). */
  private readonly snapshots: SharedSnapshots;
  /** Whether each script's last run wrote (by compiled-script key): one that did not may be pipelined. */
  private readonly wrote = new Map<string, boolean>();
  /** After a lost commit race, a script's runs take turns for a while (hot keys). */
  private readonly turns = new ScriptTurns();

  constructor(
    private readonly store: Store,
    private readonly catalog: ScriptCatalog,
    private readonly engines: EngineRegistry,
    private readonly limits: RunnerLimits,
    private readonly gate: CommitGate = new CommitGate(),
    private readonly observer: Pick<Observer, 'run'> = NO_OBSERVER,
    /** Follows the store's commits for the engine hosts' read caches; without it hosts cache nothing. */
    private readonly feed?: InvalidationFeed,
  ) {
    this.snapshots = new SharedSnapshots(store.space);
  }

  private noteWrites(key: string, wrote: boolean): void {
    if (this.wrote.get(key) === wrote) return;
    if (this.wrote.size >= MAX_NOTED_SCRIPTS) this.wrote.clear();
    this.wrote.set(key, wrote);
  }

  /** Stops sharing snapshots between runs (the server is closing). */
  close(): void {
    this.snapshots.close();
  }

  /** Runs, then reports the run (once its script is known) to the observer. */
  async run(input: RunInput, log: Logger): Promise<RunOutput> {
    const trace = newTrace();
    let out: RunOutput;
    try {
      out = await this.runRegistered(input, log, trace);
    } catch (err) {
      if (trace.engine !== undefined) {
        const e = isLucienError(err) ? err : undefined;
        const report = { code: e?.code ?? 'INTERNAL', message: e?.message ?? 'internal error', line: e?.details.line };
        this.report(
          input,
          trace,
          outcomeOf(e?.code, input.cancelled?.() === true),
          e?.details.logs ?? [],
          e?.details.attempts,
          report,
        );
      }
      throw err;
    }
    this.report(input, trace, 'ok', out.logs, out.attempts, undefined);
    return out;
  }

  private report(
    input: RunInput,
    trace: RunTrace,
    outcome: RunOutcome,
    logs: readonly string[],
    attempts: number | undefined,
    error: RunReport['error'],
  ): void {
    this.observer.run({
      script: input.name,
      engine: trace.engine as string,
      outcome,
      durationMs: performance.now() - trace.started,
      attempts: attempts ?? trace.attempts,
      bridgeCalls: trace.calls,
      dryRun: input.dryRun,
      args: input.args === '' ? '[]' : input.args,
      logs,
      error,
    });
  }

  private async runRegistered(input: RunInput, log: Logger, trace: RunTrace): Promise<RunOutput> {
    const args = checkArgs(input.args, this.limits);
    const script = await this.catalog.get(input.name);
    return this.execute(
      { name: script.name, key: scriptKey(script), engine: script.engine, source: script.source },
      args,
      input,
      log,
      trace,
    );
  }

  /**
   * Runs `source` as a script that is not registered: the same engines,
   * limits, transaction and errors as run(). Compiled once per distinct
   * source (the cache key is its hash).
   */
  async eval(input: EvalInput, log: Logger): Promise<RunOutput> {
    const args = checkArgs(input.args, this.limits);
    const runnable = evalRunnable(input, this.engines, this.limits.maxScriptBytes);
    return this.execute(runnable, args, { ...input, dryRun: !input.commit }, log);
  }

  /** `trace` collects what run() reports; eval's runs are not reported (they have no script name). */
  private async execute(
    script: Runnable,
    args: string,
    input: CallerContext & Pick<RunInput, 'dryRun' | 'timeoutMs'>,
    log: Logger,
    trace: RunTrace = newTrace(),
  ): Promise<RunOutput> {
    const timeoutMs = Math.min(
      input.timeoutMs === 0 ? this.limits.defaultTimeoutMs : input.timeoutMs,
      this.limits.maxTimeoutMs,
    );
    const deadline = Math.min(Date.now() + timeoutMs, input.callerDeadline ?? Number.POSITIVE_INFINITY);
    const engine = this.engines.get(script.engine);
    if (engine === undefined)
      throw new LucienError(
        'INVALID_ARGUMENT',
        `script "${script.name}" uses engine "${script.engine}", which this server does not run`,
      );
    trace.engine = script.engine;

    for (let attempt = 1; ; attempt++) {
      trace.attempts = attempt;
      const endTurn = input.dryRun ? undefined : await this.turns.take(script.key, deadline, input.signal);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        endTurn?.();
        throw new LucienError(
          'SCRIPT_TIMEOUT',
          `script "${script.name}" exceeded its ${timeoutMs} ms time limit; nothing was written`,
          { attempts: attempt - 1 },
        );
      }
      // After a few lost races the run goes exclusive: no other script commits between its first read and its commit.
      const exclusive = attempt > this.limits.optimisticAttempts && !input.dryRun;
      let release: (() => void) | undefined;
      const tx = new RunTransaction(
        this.store,
        async (firstRead) => {
          if (exclusive) release = await this.gate.exclusive();
          return this.snapshots.lease(firstRead);
        },
        this.limits,
        input.access,
      );
      const cacheBytes = this.limits.hostCacheBytes ?? 0;
      const feed = this.feed;
      // A caller with restricted rights reads nothing from a host's cache: each of its reads must reach the
      // transaction, where its rights are checked (a cache hit would skip that check).
      const cache: RunCache | undefined =
        feed === undefined || cacheBytes <= 0 || input.access !== undefined
          ? undefined
          : {
              sync: async (host) =>
                feed.sync(host, await tx.open(), { maxReadBatch: this.limits.maxReadBatch, maxBytes: cacheBytes }),
              record: (cached) => {
                const calls = tx.recordCached(cached);
                trace.calls.get += calls.get;
                trace.calls.getMany += calls.getMany;
                trace.calls.list += calls.list;
              },
            };
      try {
        const { result, logs } = await engine
          .run(
            {
              name: script.name,
              key: script.key,
              source: script.source,
              args,
              timeoutMs: remaining,
              deadline,
              callersDeadline: input.callerDeadline !== undefined && input.callerDeadline <= deadline,
              signal: input.signal,
              limits: { maxLogBytes: this.limits.maxLogBytes, maxResultBytes: this.limits.maxResultBytes },
              retry: attempt > 1,
              cache,
              pipeline: input.dryRun || this.wrote.get(script.key) === false,
            },
            (request) => {
              // A cache's `read` is the host's fetch for a get or getMany it reports itself (record above).
              if (!request.startsWith('{"op":"read"')) trace.calls[bridgeOp(request)]++;
              return tx.handle(request);
            },
          )
          .catch((err: unknown) => {
            throw tx.denied ? asCallersRefusal(err) : err;
          });
        // A caller that left while its run finished gets nothing committed in its name.
        if (input.signal?.aborted === true)
          throw new LucienError(
            'CANCELLED',
            `script "${script.name}" was cancelled by its caller; nothing was written`,
            { logs },
          );
        checkResult(result, logs, this.limits);
        this.noteWrites(script.key, !tx.readOnly);
        if (input.dryRun || tx.readOnly) {
          const revision = tx.revision ?? (await this.store.space.currentRevision());
          return { result, logs, revision, writes: tx.writeList, attempts: attempt };
        }
        try {
          const commit = () => this.store.space.commit(tx.mutations(), tx.conditions());
          const { revision } = release !== undefined ? await commit() : await this.gate.withShared(commit);
          if (attempt > 1)
            log.debug('run committed after retries', { script: script.name, attempts: attempt, exclusive });
          return { result, logs, revision, writes: tx.writeList, attempts: attempt };
        } catch (err) {
          if (!isLucienError(err) || err.code !== 'CONDITION_FAILED') throw err;
          if (attempt >= this.limits.maxAttempts) {
            throw new LucienError(
              'CONFLICT',
              `script "${script.name}" kept conflicting with concurrent writes after ${attempt} attempts; nothing was written`,
              { attempts: attempt, logs },
            );
          }
          this.turns.conflicted(script.key);
          endTurn?.();
          // Backoff with full jitter, so colliding runs spread out, unless the script's runs now take turns.
          if (!this.turns.contended(script.key)) await sleep(Math.random() * Math.min(20, 2 ** attempt));
        }
      } finally {
        endTurn?.();
        release?.();
        // Not waited for: the answer need not wait for a snapshot to close (backends close leftovers on close()).
        void tx.release().catch(() => undefined);
      }
    }
  }
}
