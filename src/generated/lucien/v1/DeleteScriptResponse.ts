// Original file: proto/lucien/v1/lucien.proto


export interface DeleteScriptResponse {
  'deleted'?: (boolean);
}

export interface DeleteScriptResponse__Output {
  'deleted': (boolean);
}
