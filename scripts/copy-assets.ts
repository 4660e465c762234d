/**
 * Build step: copies the files tsc does not (the Python halves of the Python
 * engine) into dist/ beside the compiled engine, where its host may read them.
 * Must never copy anything outside the engine folders it names.
 *
 *   node dist/scripts/copy-assets.js
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FOLDERS = ['engines/python'];

for (const folder of FOLDERS) {
  for (const file of readdirSync(join(ROOT, folder)).filter((f) => f.endsWith('.py'))) {
    copyFileSync(join(ROOT, folder, file), join(ROOT, 'dist', folder, file));
  }
}
