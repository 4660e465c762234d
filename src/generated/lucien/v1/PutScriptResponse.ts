// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface PutScriptResponse {
  'revision'?: (number | string | Long);
}

export interface PutScriptResponse__Output {
  'revision': (number);
}
