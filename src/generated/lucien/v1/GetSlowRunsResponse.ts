// Original file: proto/lucien/v1/lucien.proto

import type { SlowRun as _lucien_v1_SlowRun, SlowRun__Output as _lucien_v1_SlowRun__Output } from '../../lucien/v1/SlowRun';

export interface GetSlowRunsResponse {
  'runs'?: (_lucien_v1_SlowRun)[];
  'threshold_ms'?: (number);
  'capacity'?: (number);
}

export interface GetSlowRunsResponse__Output {
  'runs': (_lucien_v1_SlowRun__Output)[];
  'threshold_ms': (number);
  'capacity': (number);
}
