/**
 * Seeds for the `random` module of each Python run: 256 bits from the host's
 * CSPRNG, drawn 4 KiB at a time (one randomFillSync per 128 runs instead of
 * an os.urandom per run inside Pyodide), handed to the sandbox as hex digits.
 * Must never hand out the same bytes twice.
 */
import { randomFillSync } from 'node:crypto';

const SEED_BYTES = 32;
const pool = Buffer.alloc(4096);
let at = pool.length;

/** 64 fresh hex digits. */
export function nextSeed(): string {
  if (at + SEED_BYTES > pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  const seed = pool.toString('hex', at, at + SEED_BYTES);
  at += SEED_BYTES;
  return seed;
}
