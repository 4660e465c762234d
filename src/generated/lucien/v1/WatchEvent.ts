// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

// Original file: proto/lucien/v1/lucien.proto

export const _lucien_v1_WatchEvent_Type = {
  PUT: 'PUT',
  DELETE: 'DELETE',
} as const;

export type _lucien_v1_WatchEvent_Type =
  | 'PUT'
  | 0
  | 'DELETE'
  | 1

export type _lucien_v1_WatchEvent_Type__Output = typeof _lucien_v1_WatchEvent_Type[keyof typeof _lucien_v1_WatchEvent_Type]

export interface WatchEvent {
  'type'?: (_lucien_v1_WatchEvent_Type);
  'bucket'?: (string);
  'key'?: (string);
  'value'?: (string);
  'revision'?: (number | string | Long);
}

export interface WatchEvent__Output {
  'type': (_lucien_v1_WatchEvent_Type__Output);
  'bucket': (string);
  'key': (string);
  'value': (string);
  'revision': (number);
}
