// Original file: proto/lucien/v1/lucien.proto


export interface GetRequest {
  'bucket'?: (string);
  'key'?: (string);
}

export interface GetRequest__Output {
  'bucket': (string);
  'key': (string);
}
