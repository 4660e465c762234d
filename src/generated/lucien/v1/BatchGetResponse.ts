// Original file: proto/lucien/v1/lucien.proto

import type { Entry as _lucien_v1_Entry, Entry__Output as _lucien_v1_Entry__Output } from '../../lucien/v1/Entry';
import type { Long } from '@grpc/proto-loader';

export interface BatchGetResponse {
  'entries'?: (_lucien_v1_Entry)[];
  'revision'?: (number | string | Long);
}

export interface BatchGetResponse__Output {
  'entries': (_lucien_v1_Entry__Output)[];
  'revision': (number);
}
