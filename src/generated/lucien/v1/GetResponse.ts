// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface GetResponse {
  'value'?: (string);
  'create_revision'?: (number | string | Long);
  'mod_revision'?: (number | string | Long);
}

export interface GetResponse__Output {
  'value': (string);
  'create_revision': (number);
  'mod_revision': (number);
}
