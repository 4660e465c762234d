/**
 * Loads lucien.proto once, with the options every handler relies on:
 * snake_case field names as written in the proto, int64 as JS numbers
 * (revisions stay far below 2^53), enums as strings, defaults filled in and
 * oneof names set. The generated types in src/generated/ match these options.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/lucien';
import { PROTO_ROOT } from '../paths';

export { PROTO_ROOT };
export const PROTO_FILE = 'lucien/v1/lucien.proto';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export const packageDefinition = protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
export const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
export const lucienService = proto.lucien.v1.Lucien.service;
