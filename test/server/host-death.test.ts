/**
 * Engine hosts die with their server: after the server gets SIGKILL (no
 * chance to clean up), every process it started — hosts and their
 * unshare/setpriv wrappers — is gone within a second, whether the hosts were
 * idle, running a script that makes bridge calls, or spinning in a loop that
 * makes none; with namespaces and without.
 */
import { connect, type TestClient } from '../helpers/client';
import { descendants, enginePids, running, until } from '../helpers/hosts';
import { startServer } from '../helpers/server';

const SPIN = { javascript: 'while (true) {}', python: 'while True:\n    pass' };
const BRIDGE_LOOP = {
  javascript: "const b = buckets.getBucket('b'); while (true) { b.get('k'); }",
  python: "b = buckets.getBucket('b')\nwhile True:\n    b.get('k')",
};

/** Starts a server, puts the hosts in the given state, kills the server with SIGKILL; answers how long until every child was gone. */
async function killedIn(
  namespaces: 'on' | 'off',
  scripts: { javascript?: string; python?: string },
): Promise<{ ms: number; children: number }> {
  const server = await startServer({ args: ['--engine-namespaces', namespaces] });
  const client: TestClient = connect(server.address);
  try {
    const pid = server.process.pid as number;
    const runs: Promise<unknown>[] = [];
    for (const [engine, source] of Object.entries(scripts)) {
      await client.call('PutScript', { name: `s_${engine}`, engine, source });
      runs.push(client.call('Run', { name: `s_${engine}`, timeout_ms: 60000 }).catch(() => undefined));
    }
    // Let the runs reach their hosts.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      enginePids(pid)
        .map((h) => h.engine)
        .sort(),
    ).toEqual(['javascript', 'python']);
    const children = descendants(pid);
    if (namespaces === 'on') expect(children.length).toBeGreaterThan(2);
    const killedAt = Date.now();
    await server.kill();
    await until(
      () => !children.some(running),
      5000,
      `children ${children.filter(running).join(', ')} of the killed server to die`,
    );
    return { ms: Date.now() - killedAt, children: children.length };
  } finally {
    client.close();
    server.cleanup();
  }
}

describe.each(['on', 'off'] as const)(
  'with namespaces %s, a server killed with SIGKILL takes its hosts along within a second',
  (namespaces) => {
    test('idle hosts', async () => {
      const { ms, children } = await killedIn(namespaces, {});
      console.log(`namespaces ${namespaces}, idle: ${children} processes gone ${ms} ms after SIGKILL`);
      expect(ms).toBeLessThan(1000);
    });

    test('a JavaScript host spinning in a loop and a Python host in a bridge-call loop', async () => {
      const { ms, children } = await killedIn(namespaces, { javascript: SPIN.javascript, python: BRIDGE_LOOP.python });
      console.log(
        `namespaces ${namespaces}, JS spinning + Python mid-bridge: ${children} processes gone ${ms} ms after SIGKILL`,
      );
      expect(ms).toBeLessThan(1000);
    });

    test('a Python host spinning in a loop and a JavaScript host in a bridge-call loop', async () => {
      const { ms, children } = await killedIn(namespaces, { python: SPIN.python, javascript: BRIDGE_LOOP.javascript });
      console.log(
        `namespaces ${namespaces}, Python spinning + JS mid-bridge: ${children} processes gone ${ms} ms after SIGKILL`,
      );
      expect(ms).toBeLessThan(1000);
    });
  },
);
