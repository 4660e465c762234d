/**
 * The rules of DESIGN §2 for names, keys and values, in one place. Used by
 * the store façade for client writes and by the script bridge for script
 * writes, so both paths reject exactly the same inputs with the same codes.
 */
import { LucienError } from '../errors';
import { DEFAULT_MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth';

const BUCKET_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The bucket that holds scripts (seed-compatible). */
export const SCRIPTS_BUCKET = '_scripts';

export function isSystemBucket(bucket: string): boolean {
  return bucket.startsWith('_');
}

/** Checks a bucket name; `write` also rejects the reserved `_` buckets. */
export function checkBucket(bucket: string, mode: 'read' | 'write'): void {
  if (!BUCKET_NAME.test(bucket)) {
    throw new LucienError(
      'INVALID_BUCKET',
      `invalid bucket name ${JSON.stringify(bucket.slice(0, 140))}: use 1-128 characters of [A-Za-z0-9_.-]`,
    );
  }
  if (mode === 'write' && isSystemBucket(bucket)) {
    throw new LucienError(
      'INVALID_BUCKET',
      `bucket "${bucket}" is reserved for the system: names starting with "_" cannot be written`,
    );
  }
}

export function checkKey(key: string, maxKeyBytes: number): void {
  if (key.length === 0) throw new LucienError('INVALID_KEY', 'key must not be empty');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > maxKeyBytes) throw new LucienError('INVALID_KEY', `key is ${bytes} bytes; the limit is ${maxKeyBytes}`);
  // A lone surrogate has no UTF-8 form: it would be stored as U+FFFD and never found again.
  if (LONE_SURROGATE.test(key)) throw new LucienError('INVALID_KEY', 'key is not valid Unicode (lone surrogate)');
}

/** Parses value text and checks it is a JSON object within the size and nesting limits; returns the parsed object. */
export function checkValue(
  value: string,
  maxValueBytes: number,
  maxDepth = DEFAULT_MAX_JSON_DEPTH,
): Record<string, unknown> {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxValueBytes)
    throw new LucienError('INVALID_VALUE', `value is ${bytes} bytes; the limit is ${maxValueBytes}`);
  if (nestsDeeperThan(value, maxDepth)) {
    throw new LucienError(
      'INVALID_VALUE',
      `value nests deeper than ${maxDepth} levels (LUCIEN_MAX_JSON_DEPTH); nothing was written`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new LucienError('INVALID_VALUE', `value is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw new LucienError('INVALID_VALUE', `value must be a JSON object, got ${kind}`);
  }
  return parsed as Record<string, unknown>;
}

/** if_revision must be a non-negative integer (0 = only if absent). */
export function checkRevision(revision: number | undefined, field = 'if_revision'): void {
  if (revision === undefined) return;
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new LucienError('INVALID_ARGUMENT', `${field} must be a non-negative integer, got ${revision}`);
  }
}
