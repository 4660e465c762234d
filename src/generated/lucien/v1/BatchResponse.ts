// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface BatchResponse {
  'revision'?: (number | string | Long);
}

export interface BatchResponse__Output {
  'revision': (number);
}
