#!/usr/bin/env node
// `npm start`'s pre-step: runs `npm run build` only when a source is newer
// than the stamp the last build left (dist/.build-stamp), so starting an
// unchanged clone does not spend half a minute in tsc. Plain JavaScript: it
// runs before anything is compiled.
//   node scripts/build-if-stale.js            build if stale, then stamp
//   node scripts/build-if-stale.js --mark     stamp only (end of `npm run build`)
// Options for tests: --root DIR (default: the package), --command "CMD" (default: npm run build).
'use strict';
const { execSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const INPUTS = [
  'src',
  'engines',
  'scripts',
  'cli',
  'clients/typescript',
  'proto',
  'tsconfig.json',
  'package.json',
  'package-lock.json',
];
const SKIP = new Set(['node_modules', '__pycache__', '.git']);

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Newest modification time (ms) under the inputs that exist. */
function newest(root) {
  let max = 0;
  const visit = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) if (!SKIP.has(name)) visit(join(path, name));
    } else if (stat.mtimeMs > max) max = stat.mtimeMs;
  };
  for (const input of INPUTS) if (existsSync(join(root, input))) visit(join(root, input));
  return max;
}

function mark(stamp, timeMs) {
  mkdirSync(join(stamp, '..'), { recursive: true });
  writeFileSync(stamp, 'built\n');
  utimesSync(stamp, timeMs / 1000, timeMs / 1000);
}

const root = arg('--root') ?? join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
if (process.argv.includes('--mark')) {
  mark(stamp, Date.now());
} else {
  const fresh =
    existsSync(stamp) && existsSync(join(root, 'dist', 'src', 'main.js')) && statSync(stamp).mtimeMs >= newest(root);
  if (fresh) {
    process.stderr.write('lucien: build is up to date (dist/); skipping it\n');
  } else {
    // Stamped with the time the build began, so a file saved during the build triggers the next one.
    const began = Date.now();
    execSync(arg('--command') ?? 'npm run build', { cwd: root, stdio: 'inherit' });
    mark(stamp, began);
  }
}
