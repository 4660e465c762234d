/**
 * The shape check of a bridge call as a host sent it: JSON of one BridgeCall,
 * with every field of the right type. Only the shape: what a call may touch
 * (the caller's rights, the store's rules on names, keys and values, the run's
 * limits) is checked by the run's transaction (run-transaction.ts) and the
 * store. Must never read or write the store, and never let through a field it
 * has not checked: an escaped script can write any call.
 */
import type { BridgeCall } from '../../engines/protocol';
import { LucienError } from '../errors';

const malformed = (what: string): LucienError => new LucienError('INVALID_ARGUMENT', `malformed bridge call: ${what}`);

/** Checks the shape of a call as a host sent it: JSON of one BridgeCall, with every field of the right type. */
export function parseCall(request: string): BridgeCall {
  let call: unknown;
  try {
    call = JSON.parse(request);
  } catch {
    throw malformed('not JSON');
  }
  if (typeof call !== 'object' || call === null || Array.isArray(call)) throw malformed('expected an object');
  const c = call as Record<string, unknown>;
  if (typeof c.bucket !== 'string') throw malformed('bucket must be a string');
  const key = (): string => {
    if (typeof c.key !== 'string') throw new LucienError('INVALID_KEY', 'key must be a string');
    return c.key;
  };
  switch (c.op) {
    case 'get':
      return { op: 'get', bucket: c.bucket, key: key() };
    case 'delete':
      return { op: 'delete', bucket: c.bucket, key: key() };
    case 'put':
      if (typeof c.value !== 'string') throw new LucienError('INVALID_VALUE', 'value must be JSON text');
      return { op: 'put', bucket: c.bucket, key: key(), value: c.value };
    case 'getMany':
    case 'read':
      if (!Array.isArray(c.keys)) throw malformed(`${c.op} needs a list of keys`);
      if (!c.keys.every((k) => typeof k === 'string')) throw new LucienError('INVALID_KEY', 'keys must be strings');
      return { op: c.op, bucket: c.bucket, keys: c.keys as string[] };
    case 'list':
      if (typeof c.prefix !== 'string') throw new LucienError('INVALID_ARGUMENT', 'prefix must be a string');
      if (typeof c.limit !== 'number') throw new LucienError('INVALID_ARGUMENT', 'list limit must be a number');
      if (c.startAfter !== null && typeof c.startAfter !== 'string')
        throw new LucienError('INVALID_ARGUMENT', 'start_after must be a string');
      return { op: 'list', bucket: c.bucket, prefix: c.prefix, limit: c.limit, startAfter: c.startAfter };
    default:
      throw new LucienError('INVALID_ARGUMENT', `unknown bridge operation ${JSON.stringify(c.op) ?? 'undefined'}`);
  }
}
