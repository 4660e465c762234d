// Original file: proto/lucien/v1/lucien.proto

import type { ScriptStats as _lucien_v1_ScriptStats, ScriptStats__Output as _lucien_v1_ScriptStats__Output } from '../../lucien/v1/ScriptStats';

export interface GetScriptStatsResponse {
  'scripts'?: (_lucien_v1_ScriptStats)[];
}

export interface GetScriptStatsResponse__Output {
  'scripts': (_lucien_v1_ScriptStats__Output)[];
}
