// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface ScriptStats {
  'name'?: (string);
  'engine'?: (string);
  'calls'?: (number | string | Long);
  'ok'?: (number | string | Long);
  'errors'?: (number | string | Long);
  'timeouts'?: (number | string | Long);
  'memory'?: (number | string | Long);
  'limits'?: (number | string | Long);
  'conflicts'?: (number | string | Long);
  'cancelled'?: (number | string | Long);
  'p50_ms'?: (number | string);
  'p99_ms'?: (number | string);
  'mean_ms'?: (number | string);
  'max_ms'?: (number | string);
  'attempts'?: (number | string | Long);
  'bridge_calls'?: (number | string | Long);
  'last_run_unix_ms'?: (number | string | Long);
  'last_error'?: (string);
  'last_error_line'?: (number);
  'last_error_unix_ms'?: (number | string | Long);
  'last_error_code'?: (string);
}

export interface ScriptStats__Output {
  'name': (string);
  'engine': (string);
  'calls': (number);
  'ok': (number);
  'errors': (number);
  'timeouts': (number);
  'memory': (number);
  'limits': (number);
  'conflicts': (number);
  'cancelled': (number);
  'p50_ms': (number);
  'p99_ms': (number);
  'mean_ms': (number);
  'max_ms': (number);
  'attempts': (number);
  'bridge_calls': (number);
  'last_run_unix_ms': (number);
  'last_error': (string);
  'last_error_line': (number);
  'last_error_unix_ms': (number);
  'last_error_code': (string);
}
