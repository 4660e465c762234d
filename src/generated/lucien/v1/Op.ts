// Original file: proto/lucien/v1/lucien.proto

import type { PutRequest as _lucien_v1_PutRequest, PutRequest__Output as _lucien_v1_PutRequest__Output } from '../../lucien/v1/PutRequest';
import type { DeleteRequest as _lucien_v1_DeleteRequest, DeleteRequest__Output as _lucien_v1_DeleteRequest__Output } from '../../lucien/v1/DeleteRequest';

export interface Op {
  'put'?: (_lucien_v1_PutRequest | null);
  'delete'?: (_lucien_v1_DeleteRequest | null);
  'op'?: "put"|"delete";
}

export interface Op__Output {
  'put'?: (_lucien_v1_PutRequest__Output | null);
  'delete'?: (_lucien_v1_DeleteRequest__Output | null);
  'op'?: "put"|"delete";
}
