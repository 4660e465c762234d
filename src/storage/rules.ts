/**
 * The commit rules every backend shares, as pure functions: what a key
 * condition means, the CONDITION_FAILED and COMPACTED errors (one message
 * each, whichever backend raises them: core.ts for memory and leveldb,
 * etcd-commit.ts for etcd), and how a commit's mutations fold into changes.
 * No I/O and no state here.
 */
import { LucienError } from '../errors';
import type { Change, KeyValue, Mutation } from './backend';

/** The failures of a commit's conditions, with the messages every backend uses. */
export const conditionFailed = {
  key: (key: string): LucienError => new LucienError('CONDITION_FAILED', 'condition on key failed', { key }),
  changed: (key: string): LucienError =>
    new LucienError('CONDITION_FAILED', 'a key under the guarded prefix changed', { key }),
  tooOld: (prefix: string): LucienError =>
    new LucienError('CONDITION_FAILED', 'prefix guard is older than the retained history', { key: prefix }),
};

/** changesSince asked for history older than the retained window. */
export function compacted(after: number): LucienError {
  return new LucienError('COMPACTED', `revision ${after + 1} is older than the retained history`);
}

/** Whether a key condition holds for the key's current version (undefined: absent). */
export function keyConditionHolds(modRevision: number, current: KeyValue | undefined): boolean {
  return modRevision === 0 ? current === undefined : current?.modRevision === modRevision;
}

/**
 * Applies mutations in order, as one commit at revision `next`, to the state
 * `current` reads: which of them changed something (a delete of a missing
 * key does not), the changes, and each touched key's resulting version.
 */
export function fold(
  mutations: readonly Mutation[],
  next: number,
  current: (key: string) => KeyValue | undefined,
): { applied: boolean[]; changes: Change[]; pending: Map<string, KeyValue | undefined> } {
  const pending = new Map<string, KeyValue | undefined>();
  const changes: Change[] = [];
  const applied = mutations.map((m) => {
    const existing = pending.has(m.key) ? pending.get(m.key) : current(m.key);
    if (m.type === 'put') {
      const createRevision = existing?.createRevision ?? next;
      pending.set(m.key, { key: m.key, value: m.value, createRevision, modRevision: next });
      changes.push({ type: 'put', key: m.key, value: m.value, revision: next });
      return true;
    }
    if (existing === undefined) return false;
    pending.set(m.key, undefined);
    changes.push({ type: 'delete', key: m.key, value: '', revision: next });
    return true;
  });
  return { applied, changes, pending };
}
