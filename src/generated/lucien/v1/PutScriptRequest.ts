// Original file: proto/lucien/v1/lucien.proto

import type { Long } from '@grpc/proto-loader';

export interface PutScriptRequest {
  'name'?: (string);
  'engine'?: (string);
  'source'?: (string);
  'description'?: (string);
  'if_revision'?: (number | string | Long);
  '_if_revision'?: "if_revision";
}

export interface PutScriptRequest__Output {
  'name': (string);
  'engine': (string);
  'source': (string);
  'description': (string);
  'if_revision'?: (number);
  '_if_revision'?: "if_revision";
}
