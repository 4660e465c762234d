/**
 * The script cache: a Run reads a script from memory, and any change to
 * `_scripts` — through this catalog or committed by another server sharing
 * the backend — is seen by the next read.
 */
import { ScriptCatalog } from '../../src/procedures/catalog';
import { EngineRegistry, type ScriptEngine } from '../../src/procedures/script-engine';
import { MemoryBackend } from '../../src/storage/memory';
import { Store } from '../../src/storage/store';

/** An engine that accepts every source: compiling is not what these tests are about. */
const accepting: ScriptEngine = {
  name: 'javascript',
  validate: async () => undefined,
  run: async () => ({ result: 'null', logs: [] }),
  warm: async () => undefined,
  preload: async () => undefined,
  close: async () => undefined,
};

async function setup() {
  const backend = new MemoryBackend();
  await backend.open();
  const store = new Store(backend, { maxKeyBytes: 1024, maxValueBytes: 1 << 20 });
  return { backend, catalog: new ScriptCatalog(store, new EngineRegistry([accepting]), 256 * 1024) };
}

test('a script changed through the catalog is read anew', async () => {
  const { catalog } = await setup();
  await catalog.put({ name: 's', engine: 'javascript', source: 'result = 1;', description: '' });
  expect((await catalog.get('s')).source).toBe('result = 1;');
  await catalog.put({ name: 's', engine: 'javascript', source: 'result = 2;', description: '' });
  expect((await catalog.get('s')).source).toBe('result = 2;');
  await catalog.delete('s');
  await expect(catalog.get('s')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  catalog.close();
});

test('a script changed by another server sharing the backend is read anew', async () => {
  const { backend, catalog } = await setup();
  await catalog.put({ name: 's', engine: 'javascript', source: 'result = 1;', description: '' });
  const first = await catalog.get('s');
  expect(await catalog.get('s')).toBe(first); // served from the cache
  // Another server: its own store on the same backend, so this catalog hears of the change only from the backend.
  const other = new Store(backend, { maxKeyBytes: 1024, maxValueBytes: 1 << 20 });
  await other.put('_scripts', 's', JSON.stringify({ engine: 'javascript', script: 'result = 3;' }), undefined, {
    system: true,
  });
  expect((await catalog.get('s')).source).toBe('result = 3;');
  catalog.close();
});
