/**
 * Runs the storage conformance suite on LevelDbBackend, each case in a fresh
 * temp directory, and proves that kill -9 loses no acknowledged commit.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { LevelDbBackend } from '../../src/storage/leveldb';
import { storageSuite } from '../conformance/storage';

storageSuite({
  name: 'leveldb',
  supports: new LevelDbBackend({ location: join(tmpdir(), 'unused') }).supports,
  factory: async (options) => {
    const location = await mkdtemp(join(tmpdir(), 'lucien-leveldb-'));
    let backend = new LevelDbBackend({ location, ...options });
    await backend.open();
    return {
      backend,
      reopen: async () => {
        await backend.close();
        backend = new LevelDbBackend({ location, ...options });
        await backend.open();
        return backend;
      },
      cleanup: async () => {
        await backend.close();
        await rm(location, { recursive: true, force: true });
      },
    };
  },
});

describe('leveldb durability', () => {
  it('kill -9 of the process loses no acknowledged commit', async () => {
    const work = await mkdtemp(join(tmpdir(), 'lucien-kill-'));
    try {
      // The child runs the real backend, transpiled, since node cannot load .ts itself.
      for (const file of [
        'errors',
        'storage/backend',
        'storage/bytewise',
        'storage/listeners',
        'storage/read-cache',
        'storage/range-cache',
        'storage/leveldb-scan',
        'storage/group-commit',
        'storage/rules',
        'storage/core',
        'storage/leveldb-layout',
        'storage/leveldb',
      ]) {
        const source = await readFile(join(__dirname, '../../src', `${file}.ts`), 'utf8');
        const { outputText } = ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
        });
        await mkdir(dirname(join(work, 'src', file)), { recursive: true });
        await writeFile(join(work, 'src', `${file}.js`), outputText);
      }
      const location = join(work, 'db');
      const child = spawn(
        process.execPath,
        [
          '-e',
          `
        const { LevelDbBackend } = require('./src/storage/leveldb');
        (async () => {
          const backend = new LevelDbBackend({ location: ${JSON.stringify(location)} });
          await backend.open();
          for (let i = 0; ; i++) {
            const { revision } = await backend.commit([{ type: 'put', key: 'k' + i, value: JSON.stringify({ i }) }]);
            process.stdout.write(revision + '\\n');
          }
        })();`,
        ],
        { cwd: work, env: { ...process.env, NODE_PATH: join(__dirname, '../../node_modules') } },
      );
      let acked = 0;
      await new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', () => resolve());
        child.stderr.on('data', (chunk: Buffer) => reject(new Error(chunk.toString())));
        child.stdout.on('data', (chunk: Buffer) => {
          const lines = chunk.toString().trim().split('\n');
          acked = Math.max(acked, Number(lines[lines.length - 1]));
          if (acked >= 300) child.kill('SIGKILL');
        });
      });
      const backend = new LevelDbBackend({ location });
      await backend.open();
      expect(await backend.currentRevision()).toBeGreaterThanOrEqual(acked);
      const snapshot = await backend.snapshot();
      const rows = await snapshot.scan('k', { limit: 100000 });
      expect(rows.length).toBe(await backend.currentRevision());
      expect(await snapshot.get(`k${acked - 1}`)).toMatchObject({
        value: JSON.stringify({ i: acked - 1 }),
        modRevision: acked,
      });
      await snapshot.release();
      await backend.close();
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
