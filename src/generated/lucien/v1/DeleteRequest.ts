// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteRequest {
  'bucket'?: (string);
  'key'?: (string);
  'if_revision'?: (number | string | Long);
  '_if_revision'?: "if_revision";
}

export interface DeleteRequest__Output {
  'bucket': (string);
  'key': (string);
  'if_revision'?: (number);
  '_if_revision'?: "if_revision";
}
