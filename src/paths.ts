/**
 * Where the package lives on disk, found once by walking up from this file to
 * the package.json named "lucien": the same answer from src/ (ts-jest) and
 * from dist/src/ (the build). Everything that needs a path to proto/, dist/
 * or node_modules/ starts here instead of guessing from __dirname.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'lucien')
      return dir;
    if (dirname(dir) === dir) throw new Error(`no lucien package.json above ${from}`);
  }
}

/** The folder holding package.json, proto/, dist/ and node_modules/. */
export const PACKAGE_ROOT = findPackageRoot(__dirname);
/** Compiled output: dist/src, dist/engines, dist/scripts. */
export const DIST_ROOT = join(PACKAGE_ROOT, 'dist');
export const NODE_MODULES = join(PACKAGE_ROOT, 'node_modules');
export const PROTO_ROOT = join(PACKAGE_ROOT, 'proto');
