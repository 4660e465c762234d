// Original file: proto/lucien/v1/lucien.proto


export interface ExportRequest {
  'buckets'?: (string)[];
  'exclude_scripts'?: (boolean);
}

export interface ExportRequest__Output {
  'buckets': (string)[];
  'exclude_scripts': (boolean);
}
