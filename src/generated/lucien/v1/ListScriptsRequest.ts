// Original file: proto/lucien/v1/lucien.proto


export interface ListScriptsRequest {
}

export interface ListScriptsRequest__Output {
}
