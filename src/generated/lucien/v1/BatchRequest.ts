// Original file: proto/lucien/v1/lucien.proto

import type { Op as _lucien_v1_Op, Op__Output as _lucien_v1_Op__Output } from '../../lucien/v1/Op';

export interface BatchRequest {
  'ops'?: (_lucien_v1_Op)[];
}

export interface BatchRequest__Output {
  'ops': (_lucien_v1_Op__Output)[];
}
