// Original file: proto/lucien/v1/lucien.proto


export interface DeleteScriptRequest {
  'name'?: (string);
}

export interface DeleteScriptRequest__Output {
  'name': (string);
}
