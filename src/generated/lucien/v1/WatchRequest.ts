// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchRequest {
  'bucket'?: (string);
  'prefix'?: (string);
  'start_revision'?: (number | string | Long);
  'all_buckets'?: (boolean);
}

export interface WatchRequest__Output {
  'bucket': (string);
  'prefix': (string);
  'start_revision': (number);
  'all_buckets': (boolean);
}
