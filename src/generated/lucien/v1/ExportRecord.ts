// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface ExportRecord {
  'bucket'?: (string);
  'key'?: (string);
  'value'?: (string);
  'create_revision'?: (number | string | Long);
  'mod_revision'?: (number | string | Long);
}

export interface ExportRecord__Output {
  'bucket': (string);
  'key': (string);
  'value': (string);
  'create_revision': (number);
  'mod_revision': (number);
}
