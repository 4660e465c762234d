/**
 * One Backend commit carried to etcd exactly once, even when answers are lost.
 *
 * Every commit of this backend goes through a commit slot, a key of its own
 * (<ns>s/<node>/<n>) that no other commit uses while it is in flight. Each
 * attempt's Txn compares the slot's mod_revision with the one this backend
 * last left there and puts the attempt's id into it. So:
 * - of all the attempts of one commit, at most one ever applies (the first to
 *   apply moves the slot; every other attempt's compare then fails);
 * - when an attempt's answer is lost (a member died, a deadline passed), the
 *   next attempt is fenced: its failure branch reads the slot, and overwrites
 *   it, so the lost attempt can no longer apply later. Reading our own id in
 *   the slot means the lost attempt committed, at the slot's mod_revision, and
 *   that is what the caller gets: not an error, not a second application, not
 *   a CONDITION_FAILED caused by its own write;
 * - when the failover window closes with the outcome still unknown, the
 *   caller gets UNAVAILABLE saying so, and the slot is abandoned (never reused).
 * A slot is one small key per concurrent commit of a backend instance; a
 * backend that closes leaves its slots behind (a few keys per server start).
 * This file must never read user values, and never retry a commit other than
 * through a fenced attempt.
 */
import { randomBytes } from 'node:crypto';
import { LucienError } from '../errors';
import type { CommitResult, Condition, Mutation } from './backend';
import { type Trim, diagnose, keysToRead, planTxn } from './etcd-commit';
import { EtcdStalled, type FailoverOptions, isRefusal, isTransient, withFailover } from './etcd-failover';
import { readKeys, toLucienError } from './etcd-io';
import type { EtcdKv } from './etcd-kv';
import type { EtcdLayout } from './etcd-layout';
import type { TxnResult } from './etcd-wire';

/** Retries of a commit whose internal compares lost a race (each loss means another commit succeeded). */
const MAX_RACES = 50;

interface Slot {
  readonly key: Buffer;
  modRevision: number;
}

export class EtcdCommitter {
  private readonly node = randomBytes(6).toString('hex');
  private readonly free: Slot[] = [];
  private slots = 0;
  private attempts = 0;
  /** Old tombstones the next commit removes (found by the backend's maintenance). */
  trims: Trim[] = [];

  constructor(
    private readonly layout: EtcdLayout,
    private readonly historyRevisions: number,
    private readonly failover: FailoverOptions,
  ) {}

  /** Commits exactly once, or fails with a LucienError (and then wrote nothing, unless it says the outcome is unknown). */
  async apply(client: EtcdKv, mutations: readonly Mutation[], conditions: readonly Condition[]): Promise<CommitResult> {
    const slot = this.free.pop() ?? { key: this.layout.slot(this.node, this.slots++), modRevision: 0 };
    /** Attempts whose answer was lost, by id, with what they would report. */
    const lost = new Map<string, boolean[]>();
    let races = 0;
    try {
      const result = await withFailover(this.failover, async (deadline) => {
        for (;;) {
          const reading = keysToRead(mutations);
          const records = reading.flatMap((k) => [this.layout.data(k), this.layout.rebirth(k)]);
          const current = await readKeys(client, records, { keysOnly: true, deadline });
          const seen = new Map(
            reading.map((key, i) => [
              key,
              { modRevision: Number(current[2 * i]?.mod_revision ?? 0), reborn: current[2 * i + 1] !== undefined },
            ]),
          );
          const trims = this.trims;
          const attempt = `${this.node}:${++this.attempts}`;
          const use = { key: slot.key, modRevision: slot.modRevision, attempt, fence: lost.size > 0 };
          const plan = planTxn(this.layout, mutations, conditions, seen, trims, this.historyRevisions, use);
          let res: TxnResult;
          try {
            res = await client.txn(
              { compare: plan.compare, success: plan.success, failure: plan.failure },
              { deadline },
            );
          } catch (err) {
            // etcd refusing the request on its merits (too large, too many ops) is a definite no;
            // after anything else the attempt may have applied: settle it with a fenced attempt.
            if (isRefusal(err)) throw err;
            if (plan.changed) lost.set(attempt, plan.applied);
            throw isTransient(err) ? err : new EtcdStalled(`etcd: ${err instanceof Error ? err.message : String(err)}`);
          }
          if (res.succeeded) {
            if (!plan.changed) {
              const marker = Number(res.responses[0]?.response_range?.kvs[0]?.mod_revision ?? 0);
              return { revision: marker > 0 ? marker : Number(res.header.revision), applied: plan.applied };
            }
            slot.modRevision = Number(res.header.revision);
            lost.clear();
            if (this.trims === trims) this.trims = [];
            return { revision: slot.modRevision, applied: plan.applied };
          }
          const settled = this.settle(res, plan.slotRead, lost, slot);
          if (settled !== undefined) return settled;
          const failed = diagnose(this.layout, conditions, res.responses, this.historyRevisions);
          if (failed !== undefined) throw failed;
          // The slot moved without a lost attempt to account for it (never expected): take it as it is.
          const held = res.responses[plan.slotRead]?.response_range?.kvs[0];
          if (held !== undefined) slot.modRevision = Number(held.mod_revision);
          // Another commit won a race on a key we delete or a tombstone we trim: plan again, without trims.
          this.trims = [];
          if (++races >= MAX_RACES)
            throw new LucienError('UNAVAILABLE', 'commit kept losing races with concurrent commits');
        }
      });
      return result;
    } catch (err) {
      if (lost.size > 0) {
        throw new LucienError(
          'UNAVAILABLE',
          `etcd did not answer a commit, and no member could settle whether it was applied within ${this.failover.windowMs} ms: it may or may not have been (${toLucienError(err).message})`,
        );
      }
      throw toLucienError(err);
    } finally {
      if (lost.size === 0) this.free.push(slot);
    }
  }

  /**
   * After a failed attempt: if the slot holds the id of an attempt whose
   * answer was lost, that attempt committed, at the slot's mod_revision. If
   * this attempt was fenced, the slot now holds the fence, and no lost
   * attempt can apply any more.
   */
  private settle(res: TxnResult, slotRead: number, lost: Map<string, boolean[]>, slot: Slot): CommitResult | undefined {
    if (slotRead < 0 || lost.size === 0) return undefined;
    const kv = res.responses[slotRead]?.response_range?.kvs[0];
    const applied = kv === undefined ? undefined : lost.get(kv.value.toString('utf8'));
    lost.clear();
    // The fence put in this Txn's failure branch moved the slot.
    slot.modRevision = Number(res.header.revision);
    return kv !== undefined && applied !== undefined ? { revision: Number(kv.mod_revision), applied } : undefined;
  }
}
