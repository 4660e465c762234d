// Original file: proto/lucien/v1/lucien.proto


export interface Write {
  'bucket'?: (string);
  'key'?: (string);
  'value'?: (string);
  'deleted'?: (boolean);
}

export interface Write__Output {
  'bucket': (string);
  'key': (string);
  'value': (string);
  'deleted': (boolean);
}
