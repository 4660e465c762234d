/**
 * Authentication and roles. With no LUCIEN_AUTH_FILE every caller is admin
 * (and protected mode keeps such a server on loopback). With one, every call
 * must carry `authorization: Bearer <token>` naming a token of the file, and
 * fails closed: unknown token, malformed header or unreadable file all deny.
 *
 * Auth file (JSON): {"tokens": [{"name": "ops", "token": "…", "role": "admin"}]}
 * Roles, each including the ones before it: read, write, admin. A token may
 * also be scoped to buckets: "buckets": ["posts", "comments*"] (a name, or a
 * prefix ending in *); without it, every bucket. Scripts run with the rights
 * of their caller (invoker rights): each bucket call a script makes is checked
 * against the caller's role and scope (bucketAccess).
 */
import type { Metadata } from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LucienError } from '../errors';
import { SCRIPTS_BUCKET } from '../storage/validate';

export type Role = 'read' | 'write' | 'admin';
const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };

export interface Principal {
  readonly name: string;
  readonly role: Role;
  /** Bucket patterns this principal may touch (a name, or a prefix ending in *); undefined: all. */
  readonly buckets?: readonly string[];
}

const BUCKET_PATTERN = /^(\*|[A-Za-z0-9_.-]{1,128}\*?)$/;

function inScope(principal: Principal, bucket: string): boolean {
  if (principal.buckets === undefined || bucket === SCRIPTS_BUCKET) return true;
  return principal.buckets.some((p) => (p.endsWith('*') ? bucket.startsWith(p.slice(0, -1)) : bucket === p));
}

/** Throws PERMISSION_DENIED unless the principal may `mode` every bucket named (the rpc's role was checked already). */
export function requireBuckets(principal: Principal, buckets: Iterable<string>, mode: 'read' | 'write'): void {
  for (const bucket of buckets) {
    if (!inScope(principal, bucket))
      throw new LucienError(
        'PERMISSION_DENIED',
        `"${principal.name}" may not ${mode} bucket ${JSON.stringify(bucket)}`,
      );
  }
}

/** Whether the principal may see this bucket at all (ListBuckets shows only those). */
export function bucketVisible(principal: Principal, bucket: string): boolean {
  return inScope(principal, bucket);
}

/**
 * The caller's rights as a script's bridge checks them (invoker rights): a
 * read needs the bucket in scope; a write also needs the write role. Answers
 * why not, or undefined.
 */
export function bucketAccess(
  principal: Principal,
): ((bucket: string, mode: 'read' | 'write') => string | undefined) | undefined {
  if (principal.buckets === undefined && RANK[principal.role] >= RANK.write) return undefined;
  return (bucket, mode) => {
    if (mode === 'write' && RANK[principal.role] < RANK.write)
      return `"${principal.name}" has role "${principal.role}" and may not write bucket ${JSON.stringify(bucket)}`;
    if (!inScope(principal, bucket)) return `"${principal.name}" may not ${mode} bucket ${JSON.stringify(bucket)}`;
    return undefined;
  };
}

export interface Authenticator {
  readonly enabled: boolean;
  /** Returns who is calling, or throws UNAUTHENTICATED / PERMISSION_DENIED. */
  authorize(metadata: Metadata, needed: Role): Principal;
}

const ANONYMOUS_ADMIN: Principal = { name: 'anonymous', role: 'admin' };

export const openAuthenticator: Authenticator = {
  enabled: false,
  authorize: () => ANONYMOUS_ADMIN,
};

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Reads and checks the auth file; throws (so the server refuses to start) on any problem. */
export function loadAuthenticator(path: string): Authenticator {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read auth file ${path}: ${(err as Error).message}`);
  }
  const tokens = (parsed as { tokens?: unknown }).tokens;
  if (!Array.isArray(tokens) || tokens.length === 0)
    throw new Error(`auth file ${path} must hold a non-empty "tokens" array`);
  const entries = tokens.map((t: unknown, i) => {
    const { name, token, role, buckets } = (t ?? {}) as Record<string, unknown>;
    if (typeof token !== 'string' || token.length < 16)
      throw new Error(`auth file ${path}: tokens[${i}].token must be a string of at least 16 characters`);
    if (role !== 'read' && role !== 'write' && role !== 'admin')
      throw new Error(`auth file ${path}: tokens[${i}].role must be read, write or admin`);
    if (
      buckets !== undefined &&
      (!Array.isArray(buckets) || !buckets.every((b) => typeof b === 'string' && BUCKET_PATTERN.test(b)))
    ) {
      throw new Error(
        `auth file ${path}: tokens[${i}].buckets must be a list of bucket names or prefixes ending in * (e.g. ["posts", "comments*"])`,
      );
    }
    const principal: Principal = {
      name: typeof name === 'string' ? name : `token-${i}`,
      role,
      ...(buckets === undefined ? {} : { buckets: buckets as string[] }),
    };
    return { digest: digest(token), principal };
  });
  return {
    enabled: true,
    authorize(metadata, needed) {
      const header = metadata.get('authorization')[0];
      const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
      if (match === null)
        throw new LucienError('UNAUTHENTICATED', 'missing or malformed "authorization: Bearer <token>" metadata');
      const presented = digest(match[1] as string);
      // Compare against every entry, in constant time, so timing tells nothing.
      let found: Principal | undefined;
      for (const entry of entries) if (timingSafeEqual(entry.digest, presented)) found = entry.principal;
      if (found === undefined) throw new LucienError('UNAUTHENTICATED', 'unknown token');
      if (RANK[found.role] < RANK[needed])
        throw new LucienError('PERMISSION_DENIED', `role "${found.role}" may not do this; it needs "${needed}"`);
      return found;
    },
  };
}
