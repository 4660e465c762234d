// Original file: proto/lucien/v1/lucien.proto

import type { ExportRecord as _lucien_v1_ExportRecord, ExportRecord__Output as _lucien_v1_ExportRecord__Output } from '../../lucien/v1/ExportRecord';
import type { Script as _lucien_v1_Script, Script__Output as _lucien_v1_Script__Output } from '../../lucien/v1/Script';
import type { Long } from '@grpc/proto-loader';

export interface ExportChunk {
  'revision'?: (number | string | Long);
  'records'?: (_lucien_v1_ExportRecord)[];
  'scripts'?: (_lucien_v1_Script)[];
}

export interface ExportChunk__Output {
  'revision': (number);
  'records': (_lucien_v1_ExportRecord__Output)[];
  'scripts': (_lucien_v1_Script__Output)[];
}
