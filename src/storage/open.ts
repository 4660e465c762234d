/**
 * Picks the backend the configuration names. The only place that knows
 * which backends exist; everything else sees the Backend interface.
 */
import { resolve } from 'node:path';
import type { Config } from '../config';
import type { Backend } from './backend';
import { EtcdBackend } from './etcd';
import { LevelDbBackend } from './leveldb';
import { MemoryBackend } from './memory';

export function createBackend(config: Config): Backend {
  switch (config.backend) {
    case 'memory':
      return new MemoryBackend({ historyRevisions: config.historyRevisions });
    case 'leveldb':
      return new LevelDbBackend({
        location: resolve(config.dataDir),
        historyRevisions: config.historyRevisions,
        sync: config.fsync,
        cacheBytes: config.readCacheBytes,
      });
    case 'etcd':
      return new EtcdBackend({
        endpoints: config.etcdEndpoints,
        historyRevisions: config.historyRevisions,
        failover: { attemptTimeoutMs: config.etcdAttemptTimeoutMs, windowMs: config.etcdFailoverMs },
      });
  }
}
