// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteResponse {
  'revision'?: (number | string | Long);
  'deleted'?: (boolean);
}

export interface DeleteResponse__Output {
  'revision': (number);
  'deleted': (boolean);
}
