/**
 * Opaque List page tokens. A token is bound to the bucket and prefix it was
 * issued for, so it cannot be replayed against another listing; clients must
 * treat it as opaque (its encoding may change).
 */
import { LucienError } from '../errors';

interface TokenBody {
  readonly v: 1;
  readonly b: string;
  readonly p: string;
  readonly a: string;
}

export function encodePageToken(bucket: string, prefix: string, lastKey: string): string {
  const body: TokenBody = { v: 1, b: bucket, p: prefix, a: lastKey };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Returns the key to continue after; throws INVALID_ARGUMENT for a foreign or mangled token. */
export function decodePageToken(token: string, bucket: string, prefix: string): string {
  let body: Partial<TokenBody>;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    throw new LucienError('INVALID_ARGUMENT', 'page_token is not a token this server issued');
  }
  if (
    body === null ||
    typeof body !== 'object' ||
    body.v !== 1 ||
    typeof body.a !== 'string' ||
    typeof body.b !== 'string' ||
    typeof body.p !== 'string'
  ) {
    throw new LucienError('INVALID_ARGUMENT', 'page_token is not a token this server issued');
  }
  if (body.b !== bucket || body.p !== prefix) {
    throw new LucienError('INVALID_ARGUMENT', 'page_token belongs to a different bucket or prefix');
  }
  return body.a;
}
