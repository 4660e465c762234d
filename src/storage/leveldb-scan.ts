/**
 * LevelDbBackend's scans of its data keys (leveldb-layout.ts): rows under a
 * prefix through a snapshot or at the newest state, and the latest-state
 * scan List makes, answered from the range cache when it can
 * (range-cache.ts). Must never parse or validate values, and never write.
 */
import type { ClassicLevel } from 'classic-level';
import type { KeyValue, ScanOptions } from './backend';
import { compareBytewise } from './bytewise';
import { DATA, DATA_END, decodeRecord, prefixEndText } from './leveldb-layout';
import { type RangeCache, rangeQuery } from './range-cache';

export type Db = ClassicLevel<string, string>;
export type LevelSnapshot = ReturnType<Db['snapshot']>;

/**
 * Bytes one nextv of a scan may buffer. classic-level's default (16 KiB)
 * splits a page of 100 small documents in two, and each part costs a trip
 * to the threadpool; a page up to this size comes back in one.
 */
const SCAN_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Keys under `prefix` through `snapshot`, or without one at the newest
 * state (a LevelDB iterator reads from an implicit snapshot of its own, so
 * the rows are still one consistent state). Keys come back as strings:
 * a Buffer per key costs more than the rest of the read.
 */
export async function scanData(
  db: Db,
  prefix: string,
  options: ScanOptions,
  snapshot?: LevelSnapshot,
): Promise<KeyValue[]> {
  const from =
    options.after !== undefined && compareBytewise(options.after, prefix) >= 0
      ? { gt: DATA + options.after }
      : { gte: DATA + prefix };
  const end = prefixEndText(prefix);
  const iterator = db.iterator({
    ...from,
    lt: end === undefined ? DATA_END : DATA + end,
    limit: options.limit,
    snapshot,
    highWaterMarkBytes: SCAN_BATCH_BYTES,
  });
  const keysOnly = options.keysOnly === true;
  const rows: KeyValue[] = [];
  try {
    // One nextv answers a page up to SCAN_BATCH_BYTES; a larger one takes several.
    while (rows.length < options.limit) {
      const entries = await iterator.nextv(options.limit - rows.length);
      if (entries.length === 0) break;
      for (const [key, raw] of entries) rows.push(decodeRecord(key.slice(1), raw, keysOnly));
    }
  } finally {
    await iterator.close();
  }
  return rows;
}

/**
 * The latest state under `prefix`: the range cache's rows, else a scan
 * without a snapshot that fills it when no commit into the range was written
 * meanwhile. The rows are frozen, array and all: the same array answers later
 * scans of the unchanged range (Backend.scan).
 */
export async function scanLatest(
  db: Db,
  ranges: RangeCache,
  prefix: string,
  options: ScanOptions,
): Promise<readonly KeyValue[]> {
  const query = rangeQuery(prefix, options);
  if (query === undefined) return scanData(db, prefix, options);
  const cached = ranges.lookup(query);
  if (cached !== undefined) return cached;
  const ticket = ranges.startScan();
  let rows: readonly KeyValue[] | undefined;
  try {
    const read = await scanData(db, prefix, options);
    for (const row of read) Object.freeze(row);
    rows = Object.freeze(read);
    return rows;
  } finally {
    ranges.finishScan(ticket, query, rows);
  }
}
