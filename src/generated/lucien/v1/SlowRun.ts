// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface SlowRun {
  'id'?: (number | string | Long);
  'unix_ms'?: (number | string | Long);
  'script'?: (string);
  'engine'?: (string);
  'duration_ms'?: (number | string);
  'attempts'?: (number);
  'bridge_calls'?: (number | string | Long);
  'outcome'?: (string);
  'args'?: (string);
  'logs'?: (string)[];
  'dry_run'?: (boolean);
}

export interface SlowRun__Output {
  'id': (number);
  'unix_ms': (number);
  'script': (string);
  'engine': (string);
  'duration_ms': (number);
  'attempts': (number);
  'bridge_calls': (number);
  'outcome': (string);
  'args': (string);
  'logs': (string)[];
  'dry_run': (boolean);
}
