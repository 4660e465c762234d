// Original file: proto/lucien/v1/lucien.proto


export interface GetSlowRunsRequest {
  'limit'?: (number);
}

export interface GetSlowRunsRequest__Output {
  'limit': (number);
}
