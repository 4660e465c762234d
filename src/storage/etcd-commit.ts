/**
 * How one Backend commit becomes one etcd Txn, and how a failed Txn is
 * explained. Pure functions: no I/O, no state.
 *
 * Compares (all must hold, evaluated by etcd atomically with the writes):
 *   key condition n      mod_revision(<ns>d/key) == n       (absent keys read as 0)
 *   prefix guard (P, R)  mod_revision(<ns>rev) < R + H + 1  (R is inside the history window)
 *                        mod_revision over <ns>d/P… < R + 1 (no put under P after R)
 *                        mod_revision over <ns>t/P… < R + 1 (no delete under P after R)
 *   internal             mod_revision(<ns>d/k) == seen, for keys this commit deletes:
 *                        what `applied` and the tombstones were planned from still holds
 *   trims                mod_revision(<ns>t/k) == seen, for old tombstones being removed
 *   slot                 mod_revision(<ns>s/…) == last known: the commit puts its attempt
 *                        id there, so at most one attempt of a commit ever applies, and a
 *                        later attempt's failure branch reads which one did (and, when
 *                        fencing, overwrites the slot so no earlier attempt applies later)
 * The failure branch reads what the conditions need, at the same revision, so
 * the failing condition is named exactly and without a second round trip.
 */
import type { ICompare, IRequestOp } from 'etcd3';
import type { LucienError } from '../errors';
import type { Condition, Mutation } from './backend';
import { conditionFailed } from './rules';
import { type EtcdLayout, modBelow, modEquals } from './etcd-layout';
import type { ResponseOp } from './etcd-wire';

/** What a commit read of a key it deletes: its mod_revision (0 = absent), and whether it has a rebirth mark. */
export interface Seen {
  readonly modRevision: number;
  readonly reborn: boolean;
}

/** An old tombstone to remove, with the mod_revision it was seen at. */
export interface Trim {
  readonly key: string;
  readonly modRevision: number;
}

/** The commit slot an attempt goes through (see the header). */
export interface SlotUse {
  readonly key: Buffer;
  /** The slot's mod_revision as this backend last left it (0: never used). */
  readonly modRevision: number;
  /** This attempt's id, unique among every attempt of every commit of this backend. */
  readonly attempt: string;
  /** An earlier attempt's outcome is unknown: on failure, overwrite the slot so it never applies. */
  readonly fence: boolean;
}

export interface TxnPlan {
  readonly compare: ICompare[];
  readonly success: IRequestOp[];
  readonly failure: IRequestOp[];
  readonly applied: boolean[];
  /** False when nothing is written: the Txn only checks and reads the marker. */
  readonly changed: boolean;
  /** Index in the failure responses of the slot's read; -1 without a slot. */
  readonly slotRead: number;
}

const EMPTY = Buffer.alloc(0);

/** Keys whose current state the plan depends on: those with a delete. */
export function keysToRead(mutations: readonly Mutation[]): string[] {
  return [...new Set(mutations.filter((m) => m.type === 'delete').map((m) => m.key))];
}

/**
 * `seen` holds every key from keysToRead. Mutations fold per key into their
 * net effect, in order of first touch, so etcd (which rejects a key written
 * twice in one Txn) sees each key once; a key that existed, was deleted and
 * put again is reborn: its put carries a rebirth mark.
 */
export function planTxn(
  layout: EtcdLayout,
  mutations: readonly Mutation[],
  conditions: readonly Condition[],
  seen: ReadonlyMap<string, Seen>,
  trims: readonly Trim[],
  historyRevisions: number,
  slot?: SlotUse,
): TxnPlan {
  const existed = (key: string): boolean => (seen.get(key)?.modRevision ?? 0) > 0;
  const exists = new Map<string, boolean>();
  const deleted = new Set<string>();
  const net = new Map<string, string | undefined>();
  const applied = mutations.map((m) => {
    if (m.type === 'put') {
      exists.set(m.key, true);
      net.set(m.key, m.value);
      return true;
    }
    if (!(exists.get(m.key) ?? existed(m.key))) return false;
    exists.set(m.key, false);
    deleted.add(m.key);
    net.set(m.key, undefined);
    return true;
  });

  const compare: ICompare[] = [];
  const failure: IRequestOp[] = [range(layout.meta)];
  for (const c of conditions) {
    if (c.type === 'key') {
      compare.push(modEquals(layout.data(c.key), c.modRevision));
      failure.push(range(layout.data(c.key)));
      continue;
    }
    const data = layout.dataRange(c.prefix);
    const tombstones = layout.tombstoneRange(c.prefix);
    compare.push(
      modBelow(layout.meta, c.revision + historyRevisions + 1),
      modBelow(data, c.revision + 1),
      modBelow(tombstones, c.revision + 1),
    );
    failure.push(changedAfter(data, c.revision), changedAfter(tombstones, c.revision));
  }
  for (const [key, { modRevision }] of seen) compare.push(modEquals(layout.data(key), modRevision));
  if (net.size === 0) return { compare, success: [range(layout.meta)], failure, applied, changed: false, slotRead: -1 };

  // Trims ride along with a real commit only: alone they would advance the revision.
  const trimmed = trims.filter((t) => !net.has(t.key));
  for (const t of trimmed) compare.push(modEquals(layout.tombstone(t.key), t.modRevision));
  const success: IRequestOp[] = [];
  for (const [key, value] of net) {
    if (value !== undefined) {
      if (existed(key) && deleted.has(key)) success.push({ request_put: { key: layout.rebirth(key), value: EMPTY } });
      success.push({ request_put: { key: layout.data(key), value: Buffer.from(value) } });
      continue;
    }
    success.push(
      { request_delete_range: { key: layout.data(key) } },
      { request_put: { key: layout.tombstone(key), value: EMPTY } },
    );
    if (seen.get(key)?.reborn === true) success.push({ request_delete_range: { key: layout.rebirth(key) } });
  }
  for (const t of trimmed) success.push({ request_delete_range: { key: layout.tombstone(t.key) } });
  success.push({ request_put: { key: layout.meta, value: EMPTY } });
  if (slot === undefined) return { compare, success, failure, applied, changed: true, slotRead: -1 };
  compare.push(modEquals(slot.key, slot.modRevision));
  success.push({ request_put: { key: slot.key, value: Buffer.from(slot.attempt) } });
  const slotRead = failure.length;
  failure.push({ request_range: { key: slot.key } });
  if (slot.fence) failure.push({ request_put: { key: slot.key, value: Buffer.from('fence') } });
  return { compare, success, failure, applied, changed: true, slotRead };
}

/**
 * The first user condition that failed, read from the failure branch of
 * planTxn; undefined when they all held (an internal compare or a trim
 * failed: another commit raced this one, and it is simply planned again).
 */
export function diagnose(
  layout: EtcdLayout,
  conditions: readonly Condition[],
  responses: readonly ResponseOp[],
  historyRevisions: number,
): LucienError | undefined {
  const kvs = responses.map((r) => r.response_range?.kvs ?? []);
  const latest = Number(kvs[0]?.[0]?.mod_revision ?? 0);
  let at = 1;
  for (const c of conditions) {
    if (c.type === 'key') {
      const found = Number(kvs[at++]?.[0]?.mod_revision ?? 0);
      if (found !== c.modRevision) return conditionFailed.key(c.key);
      continue;
    }
    const hit = kvs[at]?.[0] ?? kvs[at + 1]?.[0];
    at += 2;
    // Same order as the other backends: a guard outside the window fails as such.
    if (latest > c.revision + historyRevisions) {
      return conditionFailed.tooOld(c.prefix);
    }
    if (hit !== undefined) {
      return conditionFailed.changed(layout.decode(hit.key)?.key ?? c.prefix);
    }
  }
  return undefined;
}

function range(key: Buffer): IRequestOp {
  return { request_range: { key, keys_only: true } };
}

/** The first key in `bounds` modified after `revision`, if any. */
function changedAfter(bounds: { key: Buffer; range_end: Buffer }, revision: number): IRequestOp {
  return { request_range: { ...bounds, keys_only: true, limit: 1, min_mod_revision: revision + 1 } };
}
