// Original file: proto/lucien/v1/lucien.proto


export interface GetScriptStatsRequest {
  'name'?: (string);
}

export interface GetScriptStatsRequest__Output {
  'name': (string);
}
