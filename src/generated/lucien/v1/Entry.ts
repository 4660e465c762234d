// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface Entry {
  'bucket'?: (string);
  'key'?: (string);
  'found'?: (boolean);
  'value'?: (string);
  'mod_revision'?: (number | string | Long);
  'create_revision'?: (number | string | Long);
}

export interface Entry__Output {
  'bucket': (string);
  'key': (string);
  'found': (boolean);
  'value': (string);
  'mod_revision': (number);
  'create_revision': (number);
}
