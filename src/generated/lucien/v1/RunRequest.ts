// Original file: proto/lucien/v1/lucien.proto


export interface RunRequest {
  'name'?: (string);
  'args'?: (string);
  'dry_run'?: (boolean);
  'timeout_ms'?: (number);
}

export interface RunRequest__Output {
  'name': (string);
  'args': (string);
  'dry_run': (boolean);
  'timeout_ms': (number);
}
