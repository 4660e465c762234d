// Original file: proto/lucien/v1/lucien.proto


export interface ListBucketsResponse {
  'buckets'?: (string)[];
}

export interface ListBucketsResponse__Output {
  'buckets': (string)[];
}
