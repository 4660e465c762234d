/**
 * Derived: values computed from a frozen array, remembered by the array's
 * identity. A frozen array never changes, so what was derived from it (with
 * the same parameter) stays right for as long as the array lives, and a
 * WeakMap lets the value go with it. The LevelDB backend answers a repeated
 * List of an unchanged range with the same frozen rows (range-cache.ts);
 * each layer above derives its own form of them once and freezes it for the
 * next, so a cached List is mostly handing one buffer to grpc-js. An array
 * that is not frozen is derived afresh each time. Must never be used with a
 * derive function that reads anything but its two arguments.
 */
export class Derived<S extends object, P, V> {
  private readonly memo = new WeakMap<S, { readonly param: P; readonly value: V }>();

  constructor(private readonly derive: (source: S, param: P) => V) {}

  of(source: S, param: P): V {
    if (!Object.isFrozen(source)) return this.derive(source, param);
    const hit = this.memo.get(source);
    if (hit !== undefined && hit.param === param) return hit.value;
    const value = this.derive(source, param);
    this.memo.set(source, { param, value });
    return value;
  }
}

/** `items` and each of them, frozen when `source` is, so that what is derived from them can be remembered in turn. */
export function frozenLike<T extends object>(source: object, items: T[]): readonly T[] {
  if (!Object.isFrozen(source)) return items;
  for (const item of items) Object.freeze(item);
  return Object.freeze(items);
}
