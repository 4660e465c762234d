// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface PutResponse {
  'revision'?: (number | string | Long);
}

export interface PutResponse__Output {
  'revision': (number);
}
