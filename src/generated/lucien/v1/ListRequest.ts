// Original file: proto/lucien/v1/lucien.proto


export interface ListRequest {
  'bucket'?: (string);
  'prefix'?: (string);
  'start_after'?: (string);
  'limit'?: (number);
  'page_token'?: (string);
  'keys_only'?: (boolean);
}

export interface ListRequest__Output {
  'bucket': (string);
  'prefix': (string);
  'start_after': (string);
  'limit': (number);
  'page_token': (string);
  'keys_only': (boolean);
}
