/**
 * Handlers of the key-value rpcs (Put, Get, Delete, List, BatchGet, Batch,
 * ListBuckets): translate messages to store calls and back. Writes into
 * `_scripts` go through the script catalog, so the seed's way of registering
 * a script gets the same validation as PutScript.
 */
import { Derived, frozenLike } from '../derived';
import { LucienError } from '../errors';
import type { BatchGetRequest__Output } from '../generated/lucien/v1/BatchGetRequest';
import type { BatchGetResponse } from '../generated/lucien/v1/BatchGetResponse';
import type { BatchRequest__Output } from '../generated/lucien/v1/BatchRequest';
import type { BatchResponse } from '../generated/lucien/v1/BatchResponse';
import type { DeleteRequest__Output } from '../generated/lucien/v1/DeleteRequest';
import type { DeleteResponse } from '../generated/lucien/v1/DeleteResponse';
import type { GetRequest__Output } from '../generated/lucien/v1/GetRequest';
import type { GetResponse } from '../generated/lucien/v1/GetResponse';
import type { ListBucketsRequest__Output } from '../generated/lucien/v1/ListBucketsRequest';
import type { ListBucketsResponse } from '../generated/lucien/v1/ListBucketsResponse';
import type { ListRequest__Output } from '../generated/lucien/v1/ListRequest';
import type { Item as WireItem } from '../generated/lucien/v1/Item';
import type { ListResponse } from '../generated/lucien/v1/ListResponse';
import type { LucienHandlers } from '../generated/lucien/v1/Lucien';
import type { PutRequest__Output } from '../generated/lucien/v1/PutRequest';
import type { PutResponse } from '../generated/lucien/v1/PutResponse';
import type { ScriptCatalog } from '../procedures/catalog';
import { type BatchOp, DEFAULT_LIST_LIMIT, type Item, type Store } from '../storage/store';
import { SCRIPTS_BUCKET } from '../storage/validate';
import { type EdgeContext, unary } from './adapt';
import { bucketVisible, requireBuckets } from './auth';
import { decodePageToken, encodePageToken } from './page-token';

/** List items as messages, once per frozen page (src/derived.ts), frozen in turn for the wire encoder. */
const wireItems = new Derived((items: readonly Item[], _: undefined) =>
  frozenLike(
    items,
    items.map((kv): WireItem => ({
      key: kv.key,
      value: kv.value,
      create_revision: kv.createRevision,
      mod_revision: kv.modRevision,
    })),
  ),
);

/** The token after a page, once per frozen page; `where` is "bucket/prefix" (bucket names hold no '/'). */
const pageToken = new Derived((items: readonly Item[], where: string) => {
  const at = where.indexOf('/');
  return encodePageToken(where.slice(0, at), where.slice(at + 1), (items[items.length - 1] as Item).key);
});

type KvHandlers = Pick<LucienHandlers, 'Put' | 'Get' | 'Delete' | 'List' | 'BatchGet' | 'Batch' | 'ListBuckets'>;

/** proto3 `optional`: present only when the client set it. */
function optionalRevision(message: { if_revision?: number; _if_revision?: string }): number | undefined {
  return message._if_revision === 'if_revision' ? (message.if_revision ?? 0) : undefined;
}

export function kvHandlers(edge: EdgeContext, store: Store, scripts: ScriptCatalog): KvHandlers {
  const writeRole = (request: { bucket: string }) => (request.bucket === SCRIPTS_BUCKET ? 'admin' : 'write');
  return {
    Put: unary<PutRequest__Output, PutResponse>(edge, 'Put', writeRole, async (request, call) => {
      requireBuckets(call.principal, [request.bucket], 'write');
      const ifRevision = optionalRevision(request);
      const revision =
        request.bucket === SCRIPTS_BUCKET
          ? await scripts.putValue(request.key, request.value, ifRevision)
          : await store.put(request.bucket, request.key, request.value, ifRevision);
      return { revision };
    }),

    Get: unary<GetRequest__Output, GetResponse>(edge, 'Get', 'read', async (request, call) => {
      requireBuckets(call.principal, [request.bucket], 'read');
      const kv = await store.get(request.bucket, request.key);
      return { value: kv.value, create_revision: kv.createRevision, mod_revision: kv.modRevision };
    }),

    Delete: unary<DeleteRequest__Output, DeleteResponse>(edge, 'Delete', writeRole, async (request, call) => {
      requireBuckets(call.principal, [request.bucket], 'write');
      const ifRevision = optionalRevision(request);
      if (request.bucket === SCRIPTS_BUCKET) {
        const deleted = await scripts.delete(request.key, ifRevision);
        return { revision: await store.space.currentRevision(), deleted };
      }
      return store.delete(request.bucket, request.key, ifRevision);
    }),

    List: unary<ListRequest__Output, ListResponse>(edge, 'List', 'read', async (request, call) => {
      requireBuckets(call.principal, [request.bucket], 'read');
      const limit = request.limit === 0 ? DEFAULT_LIST_LIMIT : request.limit;
      const startAfter =
        request.page_token !== ''
          ? decodePageToken(request.page_token, request.bucket, request.prefix)
          : request.start_after;
      const page = await store.list(request.bucket, {
        prefix: request.prefix,
        startAfter,
        limit,
        keysOnly: request.keys_only,
      });
      const last = page.items[page.items.length - 1];
      return {
        // Frozen when cached: grpc-js and the wire encoder only read it.
        items: wireItems.of(page.items, undefined) as WireItem[],
        next_page_token:
          page.more && last !== undefined ? pageToken.of(page.items, `${request.bucket}/${request.prefix}`) : '',
      };
    }),

    BatchGet: unary<BatchGetRequest__Output, BatchGetResponse>(edge, 'BatchGet', 'read', async (request, call) => {
      requireBuckets(
        call.principal,
        request.keys.map((k) => k.bucket),
        'read',
      );
      const { revision, entries } = await store.batchGet(request.keys);
      return {
        revision,
        entries: entries.map((kv, i) => {
          const ref = request.keys[i] as { bucket: string; key: string };
          return kv === undefined
            ? { bucket: ref.bucket, key: ref.key, found: false, value: '', mod_revision: 0, create_revision: 0 }
            : {
                bucket: ref.bucket,
                key: ref.key,
                found: true,
                value: kv.value,
                mod_revision: kv.modRevision,
                create_revision: kv.createRevision,
              };
        }),
      };
    }),

    Batch: unary<BatchRequest__Output, BatchResponse>(edge, 'Batch', 'write', async (request, call) => {
      requireBuckets(
        call.principal,
        request.ops.map((op) => op.put?.bucket ?? op.delete?.bucket ?? ''),
        'write',
      );
      const ops: BatchOp[] = request.ops.map((op, i) => {
        if (op.put)
          return {
            type: 'put',
            bucket: op.put.bucket,
            key: op.put.key,
            value: op.put.value,
            ifRevision: optionalRevision(op.put),
          };
        if (op.delete)
          return {
            type: 'delete',
            bucket: op.delete.bucket,
            key: op.delete.key,
            ifRevision: optionalRevision(op.delete),
          };
        throw new LucienError('INVALID_ARGUMENT', `ops[${i}] has neither put nor delete`);
      });
      const { revision } = await store.batch(ops);
      return { revision };
    }),

    ListBuckets: unary<ListBucketsRequest__Output, ListBucketsResponse>(
      edge,
      'ListBuckets',
      'read',
      async (_request, call) => ({
        buckets: (await store.listBuckets()).filter((bucket) => bucketVisible(call.principal, bucket)),
      }),
    ),
  };
}
