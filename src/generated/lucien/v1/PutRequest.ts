// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface PutRequest {
  'bucket'?: (string);
  'key'?: (string);
  'value'?: (string);
  'if_revision'?: (number | string | Long);
  '_if_revision'?: "if_revision";
}

export interface PutRequest__Output {
  'bucket': (string);
  'key': (string);
  'value': (string);
  'if_revision'?: (number);
  '_if_revision'?: "if_revision";
}
