/** Runs the storage conformance suite on MemoryBackend. */
import { MemoryBackend } from '../../src/storage/memory';
import { storageSuite } from '../conformance/storage';

storageSuite({
  name: 'memory',
  supports: new MemoryBackend().supports,
  factory: async (options) => {
    const backend = new MemoryBackend(options);
    await backend.open();
    return { backend, cleanup: () => backend.close() };
  },
});
