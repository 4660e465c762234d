// Original file: proto/lucien/v1/lucien.proto

import type { Write as _lucien_v1_Write, Write__Output as _lucien_v1_Write__Output } from '../../lucien/v1/Write';
import type { Long } from '@grpc/proto-loader';

export interface RunResponse {
  'result'?: (string);
  'logs'?: (string)[];
  'revision'?: (number | string | Long);
  'writes'?: (_lucien_v1_Write)[];
  'attempts'?: (number);
}

export interface RunResponse__Output {
  'result': (string);
  'logs': (string)[];
  'revision': (number);
  'writes': (_lucien_v1_Write__Output)[];
  'attempts': (number);
}
