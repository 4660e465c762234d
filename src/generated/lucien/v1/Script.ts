// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface Script {
  'name'?: (string);
  'engine'?: (string);
  'source'?: (string);
  'description'?: (string);
  'revision'?: (number | string | Long);
}

export interface Script__Output {
  'name': (string);
  'engine': (string);
  'source': (string);
  'description': (string);
  'revision': (number);
}
