import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BatchGetRequest as _lucien_v1_BatchGetRequest, BatchGetRequest__Output as _lucien_v1_BatchGetRequest__Output } from './lucien/v1/BatchGetRequest';
import type { BatchGetResponse as _lucien_v1_BatchGetResponse, BatchGetResponse__Output as _lucien_v1_BatchGetResponse__Output } from './lucien/v1/BatchGetResponse';
import type { BatchRequest as _lucien_v1_BatchRequest, BatchRequest__Output as _lucien_v1_BatchRequest__Output } from './lucien/v1/BatchRequest';
import type { BatchResponse as _lucien_v1_BatchResponse, BatchResponse__Output as _lucien_v1_BatchResponse__Output } from './lucien/v1/BatchResponse';
import type { DeleteRequest as _lucien_v1_DeleteRequest, DeleteRequest__Output as _lucien_v1_DeleteRequest__Output } from './lucien/v1/DeleteRequest';
import type { DeleteResponse as _lucien_v1_DeleteResponse, DeleteResponse__Output as _lucien_v1_DeleteResponse__Output } from './lucien/v1/DeleteResponse';
import type { DeleteScriptRequest as _lucien_v1_DeleteScriptRequest, DeleteScriptRequest__Output as _lucien_v1_DeleteScriptRequest__Output } from './lucien/v1/DeleteScriptRequest';
import type { DeleteScriptResponse as _lucien_v1_DeleteScriptResponse, DeleteScriptResponse__Output as _lucien_v1_DeleteScriptResponse__Output } from './lucien/v1/DeleteScriptResponse';
import type { Entry as _lucien_v1_Entry, Entry__Output as _lucien_v1_Entry__Output } from './lucien/v1/Entry';
import type { EvalRequest as _lucien_v1_EvalRequest, EvalRequest__Output as _lucien_v1_EvalRequest__Output } from './lucien/v1/EvalRequest';
import type { ExportChunk as _lucien_v1_ExportChunk, ExportChunk__Output as _lucien_v1_ExportChunk__Output } from './lucien/v1/ExportChunk';
import type { ExportRecord as _lucien_v1_ExportRecord, ExportRecord__Output as _lucien_v1_ExportRecord__Output } from './lucien/v1/ExportRecord';
import type { ExportRequest as _lucien_v1_ExportRequest, ExportRequest__Output as _lucien_v1_ExportRequest__Output } from './lucien/v1/ExportRequest';
import type { GetRequest as _lucien_v1_GetRequest, GetRequest__Output as _lucien_v1_GetRequest__Output } from './lucien/v1/GetRequest';
import type { GetResponse as _lucien_v1_GetResponse, GetResponse__Output as _lucien_v1_GetResponse__Output } from './lucien/v1/GetResponse';
import type { GetScriptRequest as _lucien_v1_GetScriptRequest, GetScriptRequest__Output as _lucien_v1_GetScriptRequest__Output } from './lucien/v1/GetScriptRequest';
import type { GetScriptStatsRequest as _lucien_v1_GetScriptStatsRequest, GetScriptStatsRequest__Output as _lucien_v1_GetScriptStatsRequest__Output } from './lucien/v1/GetScriptStatsRequest';
import type { GetScriptStatsResponse as _lucien_v1_GetScriptStatsResponse, GetScriptStatsResponse__Output as _lucien_v1_GetScriptStatsResponse__Output } from './lucien/v1/GetScriptStatsResponse';
import type { GetSlowRunsRequest as _lucien_v1_GetSlowRunsRequest, GetSlowRunsRequest__Output as _lucien_v1_GetSlowRunsRequest__Output } from './lucien/v1/GetSlowRunsRequest';
import type { GetSlowRunsResponse as _lucien_v1_GetSlowRunsResponse, GetSlowRunsResponse__Output as _lucien_v1_GetSlowRunsResponse__Output } from './lucien/v1/GetSlowRunsResponse';
import type { Item as _lucien_v1_Item, Item__Output as _lucien_v1_Item__Output } from './lucien/v1/Item';
import type { KeyRef as _lucien_v1_KeyRef, KeyRef__Output as _lucien_v1_KeyRef__Output } from './lucien/v1/KeyRef';
import type { ListBucketsRequest as _lucien_v1_ListBucketsRequest, ListBucketsRequest__Output as _lucien_v1_ListBucketsRequest__Output } from './lucien/v1/ListBucketsRequest';
import type { ListBucketsResponse as _lucien_v1_ListBucketsResponse, ListBucketsResponse__Output as _lucien_v1_ListBucketsResponse__Output } from './lucien/v1/ListBucketsResponse';
import type { ListRequest as _lucien_v1_ListRequest, ListRequest__Output as _lucien_v1_ListRequest__Output } from './lucien/v1/ListRequest';
import type { ListResponse as _lucien_v1_ListResponse, ListResponse__Output as _lucien_v1_ListResponse__Output } from './lucien/v1/ListResponse';
import type { ListScriptsRequest as _lucien_v1_ListScriptsRequest, ListScriptsRequest__Output as _lucien_v1_ListScriptsRequest__Output } from './lucien/v1/ListScriptsRequest';
import type { ListScriptsResponse as _lucien_v1_ListScriptsResponse, ListScriptsResponse__Output as _lucien_v1_ListScriptsResponse__Output } from './lucien/v1/ListScriptsResponse';
import type { LucienClient as _lucien_v1_LucienClient, LucienDefinition as _lucien_v1_LucienDefinition } from './lucien/v1/Lucien';
import type { Op as _lucien_v1_Op, Op__Output as _lucien_v1_Op__Output } from './lucien/v1/Op';
import type { PutRequest as _lucien_v1_PutRequest, PutRequest__Output as _lucien_v1_PutRequest__Output } from './lucien/v1/PutRequest';
import type { PutResponse as _lucien_v1_PutResponse, PutResponse__Output as _lucien_v1_PutResponse__Output } from './lucien/v1/PutResponse';
import type { PutScriptRequest as _lucien_v1_PutScriptRequest, PutScriptRequest__Output as _lucien_v1_PutScriptRequest__Output } from './lucien/v1/PutScriptRequest';
import type { PutScriptResponse as _lucien_v1_PutScriptResponse, PutScriptResponse__Output as _lucien_v1_PutScriptResponse__Output } from './lucien/v1/PutScriptResponse';
import type { RunRequest as _lucien_v1_RunRequest, RunRequest__Output as _lucien_v1_RunRequest__Output } from './lucien/v1/RunRequest';
import type { RunResponse as _lucien_v1_RunResponse, RunResponse__Output as _lucien_v1_RunResponse__Output } from './lucien/v1/RunResponse';
import type { Script as _lucien_v1_Script, Script__Output as _lucien_v1_Script__Output } from './lucien/v1/Script';
import type { ScriptStats as _lucien_v1_ScriptStats, ScriptStats__Output as _lucien_v1_ScriptStats__Output } from './lucien/v1/ScriptStats';
import type { SlowRun as _lucien_v1_SlowRun, SlowRun__Output as _lucien_v1_SlowRun__Output } from './lucien/v1/SlowRun';
import type { WatchEvent as _lucien_v1_WatchEvent, WatchEvent__Output as _lucien_v1_WatchEvent__Output } from './lucien/v1/WatchEvent';
import type { WatchRequest as _lucien_v1_WatchRequest, WatchRequest__Output as _lucien_v1_WatchRequest__Output } from './lucien/v1/WatchRequest';
import type { Write as _lucien_v1_Write, Write__Output as _lucien_v1_Write__Output } from './lucien/v1/Write';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  lucien: {
    v1: {
      BatchGetRequest: MessageTypeDefinition<_lucien_v1_BatchGetRequest, _lucien_v1_BatchGetRequest__Output>
      BatchGetResponse: MessageTypeDefinition<_lucien_v1_BatchGetResponse, _lucien_v1_BatchGetResponse__Output>
      BatchRequest: MessageTypeDefinition<_lucien_v1_BatchRequest, _lucien_v1_BatchRequest__Output>
      BatchResponse: MessageTypeDefinition<_lucien_v1_BatchResponse, _lucien_v1_BatchResponse__Output>
      DeleteRequest: MessageTypeDefinition<_lucien_v1_DeleteRequest, _lucien_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_lucien_v1_DeleteResponse, _lucien_v1_DeleteResponse__Output>
      DeleteScriptRequest: MessageTypeDefinition<_lucien_v1_DeleteScriptRequest, _lucien_v1_DeleteScriptRequest__Output>
      DeleteScriptResponse: MessageTypeDefinition<_lucien_v1_DeleteScriptResponse, _lucien_v1_DeleteScriptResponse__Output>
      Entry: MessageTypeDefinition<_lucien_v1_Entry, _lucien_v1_Entry__Output>
      EvalRequest: MessageTypeDefinition<_lucien_v1_EvalRequest, _lucien_v1_EvalRequest__Output>
      ExportChunk: MessageTypeDefinition<_lucien_v1_ExportChunk, _lucien_v1_ExportChunk__Output>
      ExportRecord: MessageTypeDefinition<_lucien_v1_ExportRecord, _lucien_v1_ExportRecord__Output>
      ExportRequest: MessageTypeDefinition<_lucien_v1_ExportRequest, _lucien_v1_ExportRequest__Output>
      GetRequest: MessageTypeDefinition<_lucien_v1_GetRequest, _lucien_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_lucien_v1_GetResponse, _lucien_v1_GetResponse__Output>
      GetScriptRequest: MessageTypeDefinition<_lucien_v1_GetScriptRequest, _lucien_v1_GetScriptRequest__Output>
      GetScriptStatsRequest: MessageTypeDefinition<_lucien_v1_GetScriptStatsRequest, _lucien_v1_GetScriptStatsRequest__Output>
      GetScriptStatsResponse: MessageTypeDefinition<_lucien_v1_GetScriptStatsResponse, _lucien_v1_GetScriptStatsResponse__Output>
      GetSlowRunsRequest: MessageTypeDefinition<_lucien_v1_GetSlowRunsRequest, _lucien_v1_GetSlowRunsRequest__Output>
      GetSlowRunsResponse: MessageTypeDefinition<_lucien_v1_GetSlowRunsResponse, _lucien_v1_GetSlowRunsResponse__Output>
      Item: MessageTypeDefinition<_lucien_v1_Item, _lucien_v1_Item__Output>
      KeyRef: MessageTypeDefinition<_lucien_v1_KeyRef, _lucien_v1_KeyRef__Output>
      ListBucketsRequest: MessageTypeDefinition<_lucien_v1_ListBucketsRequest, _lucien_v1_ListBucketsRequest__Output>
      ListBucketsResponse: MessageTypeDefinition<_lucien_v1_ListBucketsResponse, _lucien_v1_ListBucketsResponse__Output>
      ListRequest: MessageTypeDefinition<_lucien_v1_ListRequest, _lucien_v1_ListRequest__Output>
      ListResponse: MessageTypeDefinition<_lucien_v1_ListResponse, _lucien_v1_ListResponse__Output>
      ListScriptsRequest: MessageTypeDefinition<_lucien_v1_ListScriptsRequest, _lucien_v1_ListScriptsRequest__Output>
      ListScriptsResponse: MessageTypeDefinition<_lucien_v1_ListScriptsResponse, _lucien_v1_ListScriptsResponse__Output>
      Lucien: SubtypeConstructor<typeof grpc.Client, _lucien_v1_LucienClient> & { service: _lucien_v1_LucienDefinition }
      Op: MessageTypeDefinition<_lucien_v1_Op, _lucien_v1_Op__Output>
      PutRequest: MessageTypeDefinition<_lucien_v1_PutRequest, _lucien_v1_PutRequest__Output>
      PutResponse: MessageTypeDefinition<_lucien_v1_PutResponse, _lucien_v1_PutResponse__Output>
      PutScriptRequest: MessageTypeDefinition<_lucien_v1_PutScriptRequest, _lucien_v1_PutScriptRequest__Output>
      PutScriptResponse: MessageTypeDefinition<_lucien_v1_PutScriptResponse, _lucien_v1_PutScriptResponse__Output>
      RunRequest: MessageTypeDefinition<_lucien_v1_RunRequest, _lucien_v1_RunRequest__Output>
      RunResponse: MessageTypeDefinition<_lucien_v1_RunResponse, _lucien_v1_RunResponse__Output>
      Script: MessageTypeDefinition<_lucien_v1_Script, _lucien_v1_Script__Output>
      ScriptStats: MessageTypeDefinition<_lucien_v1_ScriptStats, _lucien_v1_ScriptStats__Output>
      SlowRun: MessageTypeDefinition<_lucien_v1_SlowRun, _lucien_v1_SlowRun__Output>
      WatchEvent: MessageTypeDefinition<_lucien_v1_WatchEvent, _lucien_v1_WatchEvent__Output>
      WatchRequest: MessageTypeDefinition<_lucien_v1_WatchRequest, _lucien_v1_WatchRequest__Output>
      Write: MessageTypeDefinition<_lucien_v1_Write, _lucien_v1_Write__Output>
    }
  }
}

