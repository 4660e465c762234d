// Original file: proto/lucien/v1/lucien.proto


export interface GetScriptRequest {
  'name'?: (string);
}

export interface GetScriptRequest__Output {
  'name': (string);
}
