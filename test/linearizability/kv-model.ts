/**
 * The key-value register model for the linearizability checker: per key, a
 * value or absence. Put writes; Get reads (absent = null); CAS writes `value`
 * only if the key's value is `expect` (null = absent) and says whether it did.
 * Lucien's compare-and-set is by revision (if_revision); with every written
 * value unique, "mod_revision is r" is "the value is the one written at r", so
 * a CAS recorded as (expect = value read at r, value) is exactly Lucien's.
 * Outputs: Put → 'ok' | 'unknown'; Get → the value; CAS → true | false | 'unknown'.
 */
import type { Model, Operation } from './checker';

export type KvInput =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expect: string | null; readonly value: string };

export type KvOutput = 'ok' | 'unknown' | boolean | string | null;

export type KvOperation = Operation<KvInput, KvOutput>;

export const kvModel: Model<string | null, KvInput, KvOutput> = {
  partition(history) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of history) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.values()];
  },
  init: () => null,
  step(state, input, output) {
    switch (input.op) {
      case 'put':
        return { ok: true, state: input.value };
      case 'get':
        return { ok: output === state, state };
      case 'cas': {
        const holds = state === input.expect;
        if (output === 'unknown') return { ok: true, state: holds ? input.value : state };
        return { ok: output === holds, state: holds ? input.value : state };
      }
    }
  },
  hash: (state) => (state === null ? '\u0000' : state),
};
