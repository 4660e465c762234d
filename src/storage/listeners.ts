/**
 * Commit listeners of a backend (Backend.subscribe): one place for the rules
 * every backend shares. The same function subscribed twice gets two
 * subscriptions, and a throwing listener can neither fail the commit that
 * already happened nor starve the other listeners.
 */
import type { Change } from './backend';

export type Listener = (changes: readonly Change[]) => void;

/** Calls one listener, swallowing what it throws (Watch streams report their own errors). */
export function notify(listener: Listener, changes: readonly Change[]): void {
  try {
    listener(changes);
  } catch {
    // Deliberately ignored: see above.
  }
}

export class Listeners {
  private readonly entries = new Set<Listener>();

  /** Adds a listener; returns its unsubscribe. */
  add(listener: Listener): () => void {
    const entry: Listener = (changes) => listener(changes);
    this.entries.add(entry);
    return () => {
      this.entries.delete(entry);
    };
  }

  emit(changes: readonly Change[]): void {
    for (const entry of this.entries) notify(entry, changes);
  }

  clear(): void {
    this.entries.clear();
  }
}
