/**
 * Where the package lives, found once: the folder holding Lucien's
 * package.json, searched upward from this file. The same answer whether the
 * code runs compiled (dist/src/) or from source (ts-jest), so nothing else
 * guesses from its own __dirname. Must never read the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'lucien') return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of lucien above ${from}`);
  }
}

/** The package root (where package.json, proto/, dist/ and node_modules/ are). */
export const PACKAGE_ROOT = findPackageRoot(__dirname);
/** Compiled output: the engine hosts run from dist/engines/. */
export const DIST_ROOT = join(PACKAGE_ROOT, 'dist');
export const NODE_MODULES = join(PACKAGE_ROOT, 'node_modules');
export const PROTO_ROOT = join(PACKAGE_ROOT, 'proto');
