// Original file: proto/lucien/v1/lucien.proto


export interface KeyRef {
  'bucket'?: (string);
  'key'?: (string);
}

export interface KeyRef__Output {
  'bucket': (string);
  'key': (string);
}
