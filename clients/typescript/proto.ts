/**
 * Loads lucien.proto for the client with the options its types assume
 * (field names as in the proto, int64 as numbers, enums as strings,
 * defaults filled in). Revisions stay far below 2^53.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProtoGrpcType } from '../../src/generated/lucien';

/** proto/ at the package root, from clients/typescript/ (ts-jest) or dist/clients/typescript/. */
const candidates = [join(__dirname, '../../proto'), join(__dirname, '../../../proto')];
export const PROTO_ROOT =
  candidates.find((dir) => existsSync(join(dir, 'lucien/v1/lucien.proto'))) ?? (candidates[0] as string);

const definition = protoLoader.loadSync('lucien/v1/lucien.proto', {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
});
export const lucienProto = (grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType).lucien.v1;
