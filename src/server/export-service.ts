/**
 * Export: every key of the chosen buckets, and the registered scripts, read
 * from ONE snapshot of the bucket space and streamed in chunks, so a dump taken while
 * writes go on is still a state the store was in at one revision. The stream
 * is flow-controlled (we wait for 'drain'), so a slow reader costs a held
 * snapshot, not server memory. Must never write anything.
 */
import type * as grpc from '@grpc/grpc-js';
import type { ExportChunk } from '../generated/lucien/v1/ExportChunk';
import type { ExportRecord } from '../generated/lucien/v1/ExportRecord';
import type { ExportRequest__Output } from '../generated/lucien/v1/ExportRequest';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import { decodeScript } from '../procedures/catalog';
import { compareBytewise } from '../storage/bytewise';
import type { Store } from '../storage/store';
import { checkBucket, isSystemBucket, SCRIPTS_BUCKET } from '../storage/validate';
import { type EdgeContext, serverStream } from './adapt';

/** Keys read per scan. */
const PAGE = 1000;
/** A chunk is sent once it holds this many records or bytes of values. */
const CHUNK_RECORDS = 1000;
const CHUNK_BYTES = 1 << 20;

export function exportHandler(edge: EdgeContext, store: Store): LucienHandlers['Export'] {
  return serverStream<ExportRequest__Output, ExportChunk>(edge, 'Export', 'read', async (request, stream) => {
    for (const bucket of request.buckets) checkBucket(bucket, 'read');
    const snapshot = await store.space.snapshot();
    try {
      const revision = snapshot.revision;
      const send = async (chunk: ExportChunk): Promise<boolean> => {
        if (!stream.write(chunk)) await drained(stream);
        return !stream.cancelled;
      };
      if (!(await send({ revision, records: [], scripts: [] }))) return;

      const buckets =
        request.buckets.length > 0
          ? [...new Set(request.buckets)].sort(compareBytewise)
          : (await snapshot.listBuckets()).filter((b) => !isSystemBucket(b));
      let records: ExportRecord[] = [];
      let bytes = 0;
      for (const bucket of buckets) {
        let after: string | undefined;
        for (;;) {
          const rows = await snapshot.scan(bucket, '', { after, limit: PAGE });
          for (const row of rows) {
            records.push({
              bucket,
              key: row.key,
              value: row.value,
              create_revision: row.createRevision,
              mod_revision: row.modRevision,
            });
            bytes += row.value.length + row.key.length;
            if (records.length >= CHUNK_RECORDS || bytes >= CHUNK_BYTES) {
              if (!(await send({ revision, records, scripts: [] }))) return;
              records = [];
              bytes = 0;
            }
          }
          const last = rows[rows.length - 1];
          if (last === undefined || rows.length < PAGE) break;
          after = last.key;
        }
      }
      if (records.length > 0 && !(await send({ revision, records, scripts: [] }))) return;

      if (request.exclude_scripts) return;
      let after: string | undefined;
      for (;;) {
        const rows = await snapshot.scan(SCRIPTS_BUCKET, '', { after, limit: PAGE });
        if (rows.length === 0) break;
        const scripts = rows.map((row) => {
          const s = decodeScript(row.key, row.value, row.modRevision);
          return { name: s.name, engine: s.engine, source: s.source, description: s.description, revision: s.revision };
        });
        if (!(await send({ revision, records: [], scripts }))) return;
        if (rows.length < PAGE) break;
        after = (rows[rows.length - 1] as { key: string }).key;
      }
    } finally {
      await snapshot.release();
    }
  });
}

function drained(stream: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('cancelled', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('cancelled', done);
  });
}
