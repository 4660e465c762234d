/**
 * WriteHistory: every acknowledged write of a property test with its
 * revision, so each read can be checked against the states it could have
 * seen. Test-only; it trusts the revisions the server acknowledged.
 */

/** A key's value in the state at some revision, with the revisions that created and last changed it. */
export interface Versioned {
  readonly value: unknown;
  readonly create: number;
  readonly mod: number;
}

export class WriteHistory {
  private readonly writes: { revision: number; key: string; value: unknown }[] = [];
  /** The highest revision acknowledged so far. */
  acked = 0;

  /** A write acknowledged at `revision`; `value` null for a delete. */
  record(revision: number, key: string, value: unknown): void {
    this.writes.push({ revision, key, value });
    this.acked = Math.max(this.acked, revision);
  }

  /** The state at `revision`: the last write of each key at or below it (a key deleted last is absent). */
  at(revision: number): Map<string, Versioned> {
    const state = new Map<string, Versioned>();
    for (const w of [...this.writes].sort((x, y) => x.revision - y.revision)) {
      if (w.revision > revision) break;
      const old = state.get(w.key);
      if (w.value === null) state.delete(w.key);
      else state.set(w.key, { value: w.value, create: old?.create ?? w.revision, mod: w.revision });
    }
    return state;
  }
}
