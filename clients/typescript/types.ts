/**
 * What the client hands back: values as parsed objects, each with the exact
 * JSON text it came from (`text`), so callers that need numbers beyond 2^53
 * untouched can use the text. Revisions are numbers (they stay below 2^53).
 */
export type JsonObject = { [key: string]: unknown };

export interface KeyValue<T = JsonObject> {
  readonly bucket: string;
  readonly key: string;
  /** The parsed value (an empty object for keys-only listings). */
  readonly value: T;
  /** The value's exact JSON text, as stored. */
  readonly text: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface ListPage<T = JsonObject> {
  readonly items: KeyValue<T>[];
  /** '' when there is no further page. */
  readonly nextPageToken: string;
}

export interface RunWrite {
  readonly bucket: string;
  readonly key: string;
  /** The written object, or null for a delete. */
  readonly value: JsonObject | null;
  readonly deleted: boolean;
}

export interface RunResult<T = unknown> {
  /** The script's `result`, parsed. */
  readonly result: T;
  /** The result's exact JSON text. */
  readonly resultText: string;
  readonly logs: string[];
  /** Commit revision (the snapshot's when nothing was written). */
  readonly revision: number;
  /** Committed writes, or in a dry run those that would have been. */
  readonly writes: RunWrite[];
  readonly attempts: number;
}

export interface ScriptInfo {
  readonly name: string;
  readonly engine: string;
  readonly source: string;
  readonly description: string;
  readonly revision: number;
}

export interface WatchEvent<T = JsonObject> {
  readonly type: 'PUT' | 'DELETE';
  readonly bucket: string;
  readonly key: string;
  /** The new value, or null for a delete. */
  readonly value: T | null;
  /** The value's exact JSON text ('' for a delete). */
  readonly text: string;
  readonly revision: number;
}

/** One operation of an atomic batch. `value` is an object or its JSON text. */
export type BatchOp =
  | {
      readonly type: 'put';
      readonly bucket: string;
      readonly key: string;
      readonly value: JsonObject | string;
      readonly ifRevision?: number;
    }
  | { readonly type: 'delete'; readonly bucket: string; readonly key: string; readonly ifRevision?: number };

/** One record of an export: values stay JSON text (nothing is parsed). */
export interface ExportRecord {
  readonly bucket: string;
  readonly key: string;
  readonly text: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface ExportChunk {
  /** The snapshot revision; the same for every chunk of one export. */
  readonly revision: number;
  readonly records: ExportRecord[];
  readonly scripts: ScriptInfo[];
}
