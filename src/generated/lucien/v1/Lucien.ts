// Original file: proto/lucien/v1/lucien.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchGetRequest as _lucien_v1_BatchGetRequest, BatchGetRequest__Output as _lucien_v1_BatchGetRequest__Output } from '../../lucien/v1/BatchGetRequest';
import type { BatchGetResponse as _lucien_v1_BatchGetResponse, BatchGetResponse__Output as _lucien_v1_BatchGetResponse__Output } from '../../lucien/v1/BatchGetResponse';
import type { BatchRequest as _lucien_v1_BatchRequest, BatchRequest__Output as _lucien_v1_BatchRequest__Output } from '../../lucien/v1/BatchRequest';
import type { BatchResponse as _lucien_v1_BatchResponse, BatchResponse__Output as _lucien_v1_BatchResponse__Output } from '../../lucien/v1/BatchResponse';
import type { DeleteRequest as _lucien_v1_DeleteRequest, DeleteRequest__Output as _lucien_v1_DeleteRequest__Output } from '../../lucien/v1/DeleteRequest';
import type { DeleteResponse as _lucien_v1_DeleteResponse, DeleteResponse__Output as _lucien_v1_DeleteResponse__Output } from '../../lucien/v1/DeleteResponse';
import type { DeleteScriptRequest as _lucien_v1_DeleteScriptRequest, DeleteScriptRequest__Output as _lucien_v1_DeleteScriptRequest__Output } from '../../lucien/v1/DeleteScriptRequest';
import type { DeleteScriptResponse as _lucien_v1_DeleteScriptResponse, DeleteScriptResponse__Output as _lucien_v1_DeleteScriptResponse__Output } from '../../lucien/v1/DeleteScriptResponse';
import type { EvalRequest as _lucien_v1_EvalRequest, EvalRequest__Output as _lucien_v1_EvalRequest__Output } from '../../lucien/v1/EvalRequest';
import type { ExportChunk as _lucien_v1_ExportChunk, ExportChunk__Output as _lucien_v1_ExportChunk__Output } from '../../lucien/v1/ExportChunk';
import type { ExportRequest as _lucien_v1_ExportRequest, ExportRequest__Output as _lucien_v1_ExportRequest__Output } from '../../lucien/v1/ExportRequest';
import type { GetRequest as _lucien_v1_GetRequest, GetRequest__Output as _lucien_v1_GetRequest__Output } from '../../lucien/v1/GetRequest';
import type { GetResponse as _lucien_v1_GetResponse, GetResponse__Output as _lucien_v1_GetResponse__Output } from '../../lucien/v1/GetResponse';
import type { GetScriptRequest as _lucien_v1_GetScriptRequest, GetScriptRequest__Output as _lucien_v1_GetScriptRequest__Output } from '../../lucien/v1/GetScriptRequest';
import type { GetScriptStatsRequest as _lucien_v1_GetScriptStatsRequest, GetScriptStatsRequest__Output as _lucien_v1_GetScriptStatsRequest__Output } from '../../lucien/v1/GetScriptStatsRequest';
import type { GetScriptStatsResponse as _lucien_v1_GetScriptStatsResponse, GetScriptStatsResponse__Output as _lucien_v1_GetScriptStatsResponse__Output } from '../../lucien/v1/GetScriptStatsResponse';
import type { GetSlowRunsRequest as _lucien_v1_GetSlowRunsRequest, GetSlowRunsRequest__Output as _lucien_v1_GetSlowRunsRequest__Output } from '../../lucien/v1/GetSlowRunsRequest';
import type { GetSlowRunsResponse as _lucien_v1_GetSlowRunsResponse, GetSlowRunsResponse__Output as _lucien_v1_GetSlowRunsResponse__Output } from '../../lucien/v1/GetSlowRunsResponse';
import type { ListBucketsRequest as _lucien_v1_ListBucketsRequest, ListBucketsRequest__Output as _lucien_v1_ListBucketsRequest__Output } from '../../lucien/v1/ListBucketsRequest';
import type { ListBucketsResponse as _lucien_v1_ListBucketsResponse, ListBucketsResponse__Output as _lucien_v1_ListBucketsResponse__Output } from '../../lucien/v1/ListBucketsResponse';
import type { ListRequest as _lucien_v1_ListRequest, ListRequest__Output as _lucien_v1_ListRequest__Output } from '../../lucien/v1/ListRequest';
import type { ListResponse as _lucien_v1_ListResponse, ListResponse__Output as _lucien_v1_ListResponse__Output } from '../../lucien/v1/ListResponse';
import type { ListScriptsRequest as _lucien_v1_ListScriptsRequest, ListScriptsRequest__Output as _lucien_v1_ListScriptsRequest__Output } from '../../lucien/v1/ListScriptsRequest';
import type { ListScriptsResponse as _lucien_v1_ListScriptsResponse, ListScriptsResponse__Output as _lucien_v1_ListScriptsResponse__Output } from '../../lucien/v1/ListScriptsResponse';
import type { PutRequest as _lucien_v1_PutRequest, PutRequest__Output as _lucien_v1_PutRequest__Output } from '../../lucien/v1/PutRequest';
import type { PutResponse as _lucien_v1_PutResponse, PutResponse__Output as _lucien_v1_PutResponse__Output } from '../../lucien/v1/PutResponse';
import type { PutScriptRequest as _lucien_v1_PutScriptRequest, PutScriptRequest__Output as _lucien_v1_PutScriptRequest__Output } from '../../lucien/v1/PutScriptRequest';
import type { PutScriptResponse as _lucien_v1_PutScriptResponse, PutScriptResponse__Output as _lucien_v1_PutScriptResponse__Output } from '../../lucien/v1/PutScriptResponse';
import type { RunRequest as _lucien_v1_RunRequest, RunRequest__Output as _lucien_v1_RunRequest__Output } from '../../lucien/v1/RunRequest';
import type { RunResponse as _lucien_v1_RunResponse, RunResponse__Output as _lucien_v1_RunResponse__Output } from '../../lucien/v1/RunResponse';
import type { Script as _lucien_v1_Script, Script__Output as _lucien_v1_Script__Output } from '../../lucien/v1/Script';
import type { WatchEvent as _lucien_v1_WatchEvent, WatchEvent__Output as _lucien_v1_WatchEvent__Output } from '../../lucien/v1/WatchEvent';
import type { WatchRequest as _lucien_v1_WatchRequest, WatchRequest__Output as _lucien_v1_WatchRequest__Output } from '../../lucien/v1/WatchRequest';

export interface LucienClient extends grpc.Client {
  Batch(argument: _lucien_v1_BatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  Batch(argument: _lucien_v1_BatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  Batch(argument: _lucien_v1_BatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  Batch(argument: _lucien_v1_BatchRequest, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _lucien_v1_BatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _lucien_v1_BatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _lucien_v1_BatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  batch(argument: _lucien_v1_BatchRequest, callback: grpc.requestCallback<_lucien_v1_BatchResponse__Output>): grpc.ClientUnaryCall;
  
  BatchGet(argument: _lucien_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _lucien_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _lucien_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _lucien_v1_BatchGetRequest, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _lucien_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _lucien_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _lucien_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _lucien_v1_BatchGetRequest, callback: grpc.requestCallback<_lucien_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  
  Delete(argument: _lucien_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _lucien_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _lucien_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _lucien_v1_DeleteRequest, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _lucien_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _lucien_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _lucien_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _lucien_v1_DeleteRequest, callback: grpc.requestCallback<_lucien_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteScript(argument: _lucien_v1_DeleteScriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  DeleteScript(argument: _lucien_v1_DeleteScriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  DeleteScript(argument: _lucien_v1_DeleteScriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  DeleteScript(argument: _lucien_v1_DeleteScriptRequest, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  deleteScript(argument: _lucien_v1_DeleteScriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  deleteScript(argument: _lucien_v1_DeleteScriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  deleteScript(argument: _lucien_v1_DeleteScriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  deleteScript(argument: _lucien_v1_DeleteScriptRequest, callback: grpc.requestCallback<_lucien_v1_DeleteScriptResponse__Output>): grpc.ClientUnaryCall;
  
  Eval(argument: _lucien_v1_EvalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Eval(argument: _lucien_v1_EvalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Eval(argument: _lucien_v1_EvalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Eval(argument: _lucien_v1_EvalRequest, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  eval(argument: _lucien_v1_EvalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  eval(argument: _lucien_v1_EvalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  eval(argument: _lucien_v1_EvalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  eval(argument: _lucien_v1_EvalRequest, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  
  Export(argument: _lucien_v1_ExportRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_ExportChunk__Output>;
  Export(argument: _lucien_v1_ExportRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_ExportChunk__Output>;
  export(argument: _lucien_v1_ExportRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_ExportChunk__Output>;
  export(argument: _lucien_v1_ExportRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_ExportChunk__Output>;
  
  Get(argument: _lucien_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _lucien_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _lucien_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _lucien_v1_GetRequest, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _lucien_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _lucien_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _lucien_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _lucien_v1_GetRequest, callback: grpc.requestCallback<_lucien_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  
  GetScript(argument: _lucien_v1_GetScriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  GetScript(argument: _lucien_v1_GetScriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  GetScript(argument: _lucien_v1_GetScriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  GetScript(argument: _lucien_v1_GetScriptRequest, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  getScript(argument: _lucien_v1_GetScriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  getScript(argument: _lucien_v1_GetScriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  getScript(argument: _lucien_v1_GetScriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  getScript(argument: _lucien_v1_GetScriptRequest, callback: grpc.requestCallback<_lucien_v1_Script__Output>): grpc.ClientUnaryCall;
  
  GetScriptStats(argument: _lucien_v1_GetScriptStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  GetScriptStats(argument: _lucien_v1_GetScriptStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  GetScriptStats(argument: _lucien_v1_GetScriptStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  GetScriptStats(argument: _lucien_v1_GetScriptStatsRequest, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  getScriptStats(argument: _lucien_v1_GetScriptStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  getScriptStats(argument: _lucien_v1_GetScriptStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  getScriptStats(argument: _lucien_v1_GetScriptStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  getScriptStats(argument: _lucien_v1_GetScriptStatsRequest, callback: grpc.requestCallback<_lucien_v1_GetScriptStatsResponse__Output>): grpc.ClientUnaryCall;
  
  GetSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  GetSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  GetSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  GetSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  getSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  getSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  getSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  getSlowRuns(argument: _lucien_v1_GetSlowRunsRequest, callback: grpc.requestCallback<_lucien_v1_GetSlowRunsResponse__Output>): grpc.ClientUnaryCall;
  
  List(argument: _lucien_v1_ListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _lucien_v1_ListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _lucien_v1_ListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _lucien_v1_ListRequest, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _lucien_v1_ListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _lucien_v1_ListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _lucien_v1_ListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _lucien_v1_ListRequest, callback: grpc.requestCallback<_lucien_v1_ListResponse__Output>): grpc.ClientUnaryCall;
  
  ListBuckets(argument: _lucien_v1_ListBucketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  ListBuckets(argument: _lucien_v1_ListBucketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  ListBuckets(argument: _lucien_v1_ListBucketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  ListBuckets(argument: _lucien_v1_ListBucketsRequest, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _lucien_v1_ListBucketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _lucien_v1_ListBucketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _lucien_v1_ListBucketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  listBuckets(argument: _lucien_v1_ListBucketsRequest, callback: grpc.requestCallback<_lucien_v1_ListBucketsResponse__Output>): grpc.ClientUnaryCall;
  
  ListScripts(argument: _lucien_v1_ListScriptsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  ListScripts(argument: _lucien_v1_ListScriptsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  ListScripts(argument: _lucien_v1_ListScriptsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  ListScripts(argument: _lucien_v1_ListScriptsRequest, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  listScripts(argument: _lucien_v1_ListScriptsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  listScripts(argument: _lucien_v1_ListScriptsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  listScripts(argument: _lucien_v1_ListScriptsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  listScripts(argument: _lucien_v1_ListScriptsRequest, callback: grpc.requestCallback<_lucien_v1_ListScriptsResponse__Output>): grpc.ClientUnaryCall;
  
  Put(argument: _lucien_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _lucien_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _lucien_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _lucien_v1_PutRequest, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _lucien_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _lucien_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _lucien_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _lucien_v1_PutRequest, callback: grpc.requestCallback<_lucien_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  
  PutScript(argument: _lucien_v1_PutScriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  PutScript(argument: _lucien_v1_PutScriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  PutScript(argument: _lucien_v1_PutScriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  PutScript(argument: _lucien_v1_PutScriptRequest, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  putScript(argument: _lucien_v1_PutScriptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  putScript(argument: _lucien_v1_PutScriptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  putScript(argument: _lucien_v1_PutScriptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  putScript(argument: _lucien_v1_PutScriptRequest, callback: grpc.requestCallback<_lucien_v1_PutScriptResponse__Output>): grpc.ClientUnaryCall;
  
  Run(argument: _lucien_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _lucien_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _lucien_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _lucien_v1_RunRequest, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _lucien_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _lucien_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _lucien_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _lucien_v1_RunRequest, callback: grpc.requestCallback<_lucien_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  
  Watch(argument: _lucien_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_WatchEvent__Output>;
  Watch(argument: _lucien_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_WatchEvent__Output>;
  watch(argument: _lucien_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_WatchEvent__Output>;
  watch(argument: _lucien_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lucien_v1_WatchEvent__Output>;
  
}

export interface LucienHandlers extends grpc.UntypedServiceImplementation {
  Batch: grpc.handleUnaryCall<_lucien_v1_BatchRequest__Output, _lucien_v1_BatchResponse>;
  
  BatchGet: grpc.handleUnaryCall<_lucien_v1_BatchGetRequest__Output, _lucien_v1_BatchGetResponse>;
  
  Delete: grpc.handleUnaryCall<_lucien_v1_DeleteRequest__Output, _lucien_v1_DeleteResponse>;
  
  DeleteScript: grpc.handleUnaryCall<_lucien_v1_DeleteScriptRequest__Output, _lucien_v1_DeleteScriptResponse>;
  
  Eval: grpc.handleUnaryCall<_lucien_v1_EvalRequest__Output, _lucien_v1_RunResponse>;
  
  Export: grpc.handleServerStreamingCall<_lucien_v1_ExportRequest__Output, _lucien_v1_ExportChunk>;
  
  Get: grpc.handleUnaryCall<_lucien_v1_GetRequest__Output, _lucien_v1_GetResponse>;
  
  GetScript: grpc.handleUnaryCall<_lucien_v1_GetScriptRequest__Output, _lucien_v1_Script>;
  
  GetScriptStats: grpc.handleUnaryCall<_lucien_v1_GetScriptStatsRequest__Output, _lucien_v1_GetScriptStatsResponse>;
  
  GetSlowRuns: grpc.handleUnaryCall<_lucien_v1_GetSlowRunsRequest__Output, _lucien_v1_GetSlowRunsResponse>;
  
  List: grpc.handleUnaryCall<_lucien_v1_ListRequest__Output, _lucien_v1_ListResponse>;
  
  ListBuckets: grpc.handleUnaryCall<_lucien_v1_ListBucketsRequest__Output, _lucien_v1_ListBucketsResponse>;
  
  ListScripts: grpc.handleUnaryCall<_lucien_v1_ListScriptsRequest__Output, _lucien_v1_ListScriptsResponse>;
  
  Put: grpc.handleUnaryCall<_lucien_v1_PutRequest__Output, _lucien_v1_PutResponse>;
  
  PutScript: grpc.handleUnaryCall<_lucien_v1_PutScriptRequest__Output, _lucien_v1_PutScriptResponse>;
  
  Run: grpc.handleUnaryCall<_lucien_v1_RunRequest__Output, _lucien_v1_RunResponse>;
  
  Watch: grpc.handleServerStreamingCall<_lucien_v1_WatchRequest__Output, _lucien_v1_WatchEvent>;
  
}

export interface LucienDefinition extends grpc.ServiceDefinition {
  Batch: MethodDefinition<_lucien_v1_BatchRequest, _lucien_v1_BatchResponse, _lucien_v1_BatchRequest__Output, _lucien_v1_BatchResponse__Output>
  BatchGet: MethodDefinition<_lucien_v1_BatchGetRequest, _lucien_v1_BatchGetResponse, _lucien_v1_BatchGetRequest__Output, _lucien_v1_BatchGetResponse__Output>
  Delete: MethodDefinition<_lucien_v1_DeleteRequest, _lucien_v1_DeleteResponse, _lucien_v1_DeleteRequest__Output, _lucien_v1_DeleteResponse__Output>
  DeleteScript: MethodDefinition<_lucien_v1_DeleteScriptRequest, _lucien_v1_DeleteScriptResponse, _lucien_v1_DeleteScriptRequest__Output, _lucien_v1_DeleteScriptResponse__Output>
  Eval: MethodDefinition<_lucien_v1_EvalRequest, _lucien_v1_RunResponse, _lucien_v1_EvalRequest__Output, _lucien_v1_RunResponse__Output>
  Export: MethodDefinition<_lucien_v1_ExportRequest, _lucien_v1_ExportChunk, _lucien_v1_ExportRequest__Output, _lucien_v1_ExportChunk__Output>
  Get: MethodDefinition<_lucien_v1_GetRequest, _lucien_v1_GetResponse, _lucien_v1_GetRequest__Output, _lucien_v1_GetResponse__Output>
  GetScript: MethodDefinition<_lucien_v1_GetScriptRequest, _lucien_v1_Script, _lucien_v1_GetScriptRequest__Output, _lucien_v1_Script__Output>
  GetScriptStats: MethodDefinition<_lucien_v1_GetScriptStatsRequest, _lucien_v1_GetScriptStatsResponse, _lucien_v1_GetScriptStatsRequest__Output, _lucien_v1_GetScriptStatsResponse__Output>
  GetSlowRuns: MethodDefinition<_lucien_v1_GetSlowRunsRequest, _lucien_v1_GetSlowRunsResponse, _lucien_v1_GetSlowRunsRequest__Output, _lucien_v1_GetSlowRunsResponse__Output>
  List: MethodDefinition<_lucien_v1_ListRequest, _lucien_v1_ListResponse, _lucien_v1_ListRequest__Output, _lucien_v1_ListResponse__Output>
  ListBuckets: MethodDefinition<_lucien_v1_ListBucketsRequest, _lucien_v1_ListBucketsResponse, _lucien_v1_ListBucketsRequest__Output, _lucien_v1_ListBucketsResponse__Output>
  ListScripts: MethodDefinition<_lucien_v1_ListScriptsRequest, _lucien_v1_ListScriptsResponse, _lucien_v1_ListScriptsRequest__Output, _lucien_v1_ListScriptsResponse__Output>
  Put: MethodDefinition<_lucien_v1_PutRequest, _lucien_v1_PutResponse, _lucien_v1_PutRequest__Output, _lucien_v1_PutResponse__Output>
  PutScript: MethodDefinition<_lucien_v1_PutScriptRequest, _lucien_v1_PutScriptResponse, _lucien_v1_PutScriptRequest__Output, _lucien_v1_PutScriptResponse__Output>
  Run: MethodDefinition<_lucien_v1_RunRequest, _lucien_v1_RunResponse, _lucien_v1_RunRequest__Output, _lucien_v1_RunResponse__Output>
  Watch: MethodDefinition<_lucien_v1_WatchRequest, _lucien_v1_WatchEvent, _lucien_v1_WatchRequest__Output, _lucien_v1_WatchEvent__Output>
}
