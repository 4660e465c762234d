// Original file: proto/lucien/v1/lucien.proto


export interface ListBucketsRequest {
}

export interface ListBucketsRequest__Output {
}
