// Original file: proto/lucien/v1/lucien.proto

import type { Item as _lucien_v1_Item, Item__Output as _lucien_v1_Item__Output } from '../../lucien/v1/Item';

export interface ListResponse {
  'items'?: (_lucien_v1_Item)[];
  'next_page_token'?: (string);
}

export interface ListResponse__Output {
  'items': (_lucien_v1_Item__Output)[];
  'next_page_token': (string);
}
