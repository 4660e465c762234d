// Original file: proto/lucien/v1/lucien.proto

import type { KeyRef as _lucien_v1_KeyRef, KeyRef__Output as _lucien_v1_KeyRef__Output } from '../../lucien/v1/KeyRef';

export interface BatchGetRequest {
  'keys'?: (_lucien_v1_KeyRef)[];
}

export interface BatchGetRequest__Output {
  'keys': (_lucien_v1_KeyRef__Output)[];
}
