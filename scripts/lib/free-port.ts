/**
 * A loopback TCP port that was free a moment ago (listen on port 0, read the
 * port, close): for the servers that tests, the bench and the cluster tool
 * start on ports they pick. Only this: must never start anything itself.
 */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
