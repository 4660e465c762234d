// Original file: proto/lucien/v1/lucien.proto


export interface EvalRequest {
  'engine'?: (string);
  'source'?: (string);
  'args'?: (string);
  'commit'?: (boolean);
  'timeout_ms'?: (number);
}

export interface EvalRequest__Output {
  'engine': (string);
  'source': (string);
  'args': (string);
  'commit': (boolean);
  'timeout_ms': (number);
}
