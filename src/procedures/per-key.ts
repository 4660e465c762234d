/**
 * A map of values per (bucket, key), as a run's transaction keeps what it
 * read, listed and wrote (run-transaction.ts). Only a container: must never
 * check a name, build a storage key or touch the store.
 */

/** Values per (bucket, key). */
export class PerKey<V> {
  private readonly buckets = new Map<string, Map<string, V>>();

  get(bucket: string, key: string): V | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  has(bucket: string, key: string): boolean {
    return this.buckets.get(bucket)?.has(key) === true;
  }

  set(bucket: string, key: string, value: V): void {
    const keys = this.buckets.get(bucket);
    if (keys === undefined) this.buckets.set(bucket, new Map([[key, value]]));
    else keys.set(key, value);
  }

  *entries(): IterableIterator<[bucket: string, key: string, value: V]> {
    for (const [bucket, keys] of this.buckets) for (const [key, value] of keys) yield [bucket, key, value];
  }
}
