/**
 * Authentication and roles. With no LUCIEN_AUTH_FILE every caller is admin
 * (and protected mode keeps such a server on loopback). With one, every call
 * must carry `authorization: Bearer <token>` naming a token of the file, and
 * fails closed: unknown token, malformed header or unreadable file all deny.
 *
 * Auth file (JSON): {"tokens": [{"name": "ops", "token": "…", "role": "admin"}]}
 * Roles, each including the ones before it: read, write, admin.
 */
import type { Metadata } from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LucienError } from '../errors';

export type Role = 'read' | 'write' | 'admin';
const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };

export interface Principal {
  readonly name: string;
  readonly role: Role;
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
  if (!Array.isArray(tokens) || tokens.length === 0) throw new Error(`auth file ${path} must hold a non-empty "tokens" array`);
  const entries = tokens.map((t: unknown, i) => {
    const { name, token, role } = (t ?? {}) as Record<string, unknown>;
    if (typeof token !== 'string' || token.length < 16) throw new Error(`auth file ${path}: tokens[${i}].token must be a string of at least 16 characters`);
    if (role !== 'read' && role !== 'write' && role !== 'admin') throw new Error(`auth file ${path}: tokens[${i}].role must be read, write or admin`);
    return { digest: digest(token), principal: { name: typeof name === 'string' ? name : `token-${i}`, role } as Principal };
  });
  return {
    enabled: true,
    authorize(metadata, needed) {
      const header = metadata.get('authorization')[0];
      const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
      if (match === null) throw new LucienError('UNAUTHENTICATED', 'missing or malformed "authorization: Bearer <token>" metadata');
      const presented = digest(match[1] as string);
      // Compare against every entry, in constant time, so timing tells nothing.
      let found: Principal | undefined;
      for (const entry of entries) if (timingSafeEqual(entry.digest, presented)) found = entry.principal;
      if (found === undefined) throw new LucienError('UNAUTHENTICATED', 'unknown token');
      if (RANK[found.role] < RANK[needed]) throw new LucienError('PERMISSION_DENIED', `role "${found.role}" may not do this; it needs "${needed}"`);
      return found;
    },
  };
}
