/**
 * The sandbox boundary, typed in one place: every message between the server
 * and an engine host process. Only text crosses it; values travel as JSON
 * text so neither side ever hands the other a live object.
 *
 * A frame is a 4-byte little-endian length, then a UTF-8 body whose first
 * character says what it is:
 *   '{'  a JSON message: every ToHost / FromHost below except the two next;
 *   'c'  host -> server, a bridge call: 'c' + JSON text of a BridgeCall;
 *   'v'  server -> host, a bridge answer: 'v' + JSON text of the value;
 *   'e'  server -> host, a bridge failure: 'e' + the message to raise;
 *   'd'  server -> host, a bridge call the caller may not make: 'd' + the
 *        message, raised in the script as PermissionDenied.
 * Frames are encoded and decoded by engines/frame.ts only.
 * The bridge's frames carry their JSON verbatim, so a value is never wrapped
 * in, escaped into or parsed out of an envelope on its way to a script.
 *
 * The host never trusts itself: a script that escapes its language sandbox
 * can write any frame here, so the server checks every message against the
 * run it belongs to (src/procedures/run-transaction.ts).
 */

/** Limits the host enforces while a run is going (the server checks again). */
export interface RunLimits {
  readonly maxLogBytes: number;
  readonly maxResultBytes: number;
}

/** Why a script failed to compile or run, as the client will read it. */
export interface ScriptFailure {
  /** syntax: does not compile; error: raised; memory / limit: hit a cap. */
  readonly kind: 'syntax' | 'error' | 'memory' | 'limit';
  /** Exception type in the script's language, e.g. KeyError, TypeError. */
  readonly type: string;
  readonly message: string;
  /** 1-based line in the script source, when known. */
  readonly line?: number;
}

// ---- server -> host -------------------------------------------------------

export interface CompileMessage {
  readonly t: 'compile';
  readonly id: number;
  readonly name: string;
  readonly source: string;
  /** When set, the host keeps the compiled script under this cache key (warm-up). */
  readonly key?: string;
  /** Cache keys the host must forget first: the server decides what each host holds. */
  readonly drop?: readonly string[];
}

export interface RunMessage {
  readonly t: 'run';
  readonly id: number;
  /** Cache key of the compiled script: changes whenever the source does. */
  readonly key: string;
  readonly name: string;
  /**
   * Present only when the server does not know the host has `key` compiled;
   * a host that lacks it answers `missing` and the server sends it again with
   * the source.
   */
  readonly source?: string;
  /** Cache keys the host must forget first (see CompileMessage.drop). */
  readonly drop?: readonly string[];
  /** JSON text of an array. */
  readonly args: string;
  readonly limits: RunLimits;
  /** Present when the host may answer this run's reads from its read cache (engines/host/read-cache.ts). */
  readonly cache?: CacheSync;
}

/**
 * How the read cache names a key: bucket + '/' + key (bucket names never
 * contain '/'). Invalidations, read sets and the host's cache all use it.
 */
export const cacheName = (bucket: string, key: string): string => `${bucket}/${key}`;

/**
 * Brings the host's read cache to the run's snapshot revision, on the run
 * message itself (no extra frame, no extra wake-up). Keys are cache names
 * (cacheName above).
 */
export interface CacheSync {
  /** The run's snapshot revision: from now on the cache answers as of it. */
  readonly revision: number;
  /** Cache names of the keys changed since the revision of the host's previous synced run. */
  readonly changed: readonly string[];
  /** Drop everything first: the server cannot name what changed (too far behind, or lost track). */
  readonly reset: boolean;
  /** The server's limit on keys per getMany, so an oversized one still fails as the server says. */
  readonly maxReadBatch: number;
  /** Bytes the cache may hold. */
  readonly maxBytes: number;
}

/** The reads a host answered from its cache during a run: what the commit must be guarded by. */
export interface CachedReadSet {
  /** [cache name, mod revision seen (0 = absent)], the first read of each key. */
  readonly keys: readonly (readonly [string, number])[];
  /** cacheName(bucket, prefix) of each list answered from the cache. */
  readonly prefixes: readonly string[];
  /**
   * The script's calls the host answered without sending them on (a get or
   * getMany whose misses crossed as one `read` counts here, under its own op),
   * so per-run call counts stay the script's calls, cache or not.
   */
  readonly calls: { readonly get: number; readonly getMany: number; readonly list: number };
}

/**
 * The answer to a bridge call: JSON text, a message the script sees raised,
 * or a refusal the script sees raised as PermissionDenied ('v' / 'e' / 'd').
 */
export type BridgeReply = { readonly value: string } | { readonly error: string } | { readonly denied: string };

/** JSON messages to the host. */
export type ToHost = CompileMessage | RunMessage;

// ---- host -> server -------------------------------------------------------

/** Bridge operations a script may ask for; `value` is JSON text of an object. */
export type BridgeCall =
  | { readonly op: 'get'; readonly bucket: string; readonly key: string }
  | { readonly op: 'getMany'; readonly bucket: string; readonly keys: readonly string[] }
  /** getMany for a host's read cache: answered with revisions, as engines/host/read-answer.ts frames it. */
  | { readonly op: 'read'; readonly bucket: string; readonly keys: readonly string[] }
  | { readonly op: 'put'; readonly bucket: string; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly bucket: string; readonly key: string }
  | {
      readonly op: 'list';
      readonly bucket: string;
      readonly prefix: string;
      readonly limit: number;
      readonly startAfter: string | null;
    };

/** A bridge call as the server receives it: the text after a 'c' frame's kind, not yet checked. */
export interface CallMessage {
  readonly t: 'call';
  readonly request: string;
}

export interface ReadyMessage {
  readonly t: 'ready';
  readonly engine: string;
  readonly version: string;
}

export type CompiledMessage = (
  | { readonly t: 'compiled'; readonly id: number; readonly ok: true }
  | { readonly t: 'compiled'; readonly id: number; readonly ok: false; readonly error: ScriptFailure }
) & {
  /** As DoneMessage.retire. */
  readonly retire?: true;
};

export type DoneMessage = (
  | {
      readonly t: 'done';
      readonly id: number;
      readonly ok: true;
      readonly result: string;
      readonly logs: readonly string[];
    }
  | {
      readonly t: 'done';
      readonly id: number;
      readonly ok: false;
      readonly error: ScriptFailure;
      readonly logs: readonly string[];
    }
) & {
  /** Reads answered from the host's cache (unchecked: the server validates them). */
  readonly cached?: CachedReadSet;
  /** The host exits after this answer (its engine can no longer be trusted): never hand it another run. */
  readonly retire?: true;
};

/** A run named a cache key the host does not hold, without the source: the server sends the run again with it. */
export interface MissingMessage {
  readonly t: 'missing';
  readonly id: number;
}

/** JSON messages from the host. */
export type FromHost = ReadyMessage | CompiledMessage | DoneMessage | MissingMessage;

/**
 * Replies to bridge calls, as JSON text:
 *   get     -> object or null
 *   getMany -> array of object-or-null, one per key
 *   read    -> revisions and values, framed as engines/host/read-answer.ts says
 *   list    -> array of [key, object] pairs
 *   put / delete -> null
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** First characters of frame bodies (see the top of this file). */
export const FRAME_JSON = 0x7b; // '{'
export const FRAME_CALL = 'c';
export const FRAME_VALUE = 'v';
export const FRAME_ERROR = 'e';
export const FRAME_DENIED = 'd';
