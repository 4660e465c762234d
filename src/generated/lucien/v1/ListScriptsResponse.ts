// Original file: proto/lucien/v1/lucien.proto

import type { Script as _lucien_v1_Script, Script__Output as _lucien_v1_Script__Output } from '../../lucien/v1/Script';

export interface ListScriptsResponse {
  'scripts'?: (_lucien_v1_Script)[];
}

export interface ListScriptsResponse__Output {
  'scripts': (_lucien_v1_Script__Output)[];
}
