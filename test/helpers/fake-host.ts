/**
 * Scripted fake engine hosts for tests of the server's side of the protocol
 * (host-process.ts, pool.ts): plain node programs, started with the real
 * spawn and permission flags, that speak through the real host channel
 * (dist/engines/host/channel.js, so the one frame codec) and do whatever a
 * test scripts for `run` and `compile` messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec } from '../../engines/host-spec';

const ENGINES = join(__dirname, '..', '..', 'dist', 'engines');

export interface FakeHosts {
  /**
   * A spec whose host runs `onRun` for a run message and `onCompile` for a
   * compile message (JS source, with send(text), recv(), call(request) (the
   * channel's bridge call), done(msg, result), writeRaw(buffer) and the
   * message `msg` in scope). Messages come through the channel's receive(),
   * so one sent during a bridge call waits its turn. By default compiles
   * succeed at once.
   */
  spec(name: string, scripts: { onRun?: string; onCompile?: string }): HostSpec;
  cleanup(): void;
}

export function fakeHosts(): FakeHosts {
  const dir = mkdtempSync(join(tmpdir(), 'lucien-fake-host-'));
  return {
    spec(name, { onRun = '', onCompile = "send(JSON.stringify({ t: 'compiled', id: msg.id, ok: true }));" }) {
      const entry = join(dir, `${name}.js`);
      writeFileSync(
        entry,
        `const { writeSync } = require('node:fs');
const { sendFrame: send, receiveFrame: recv, receive, bridgeCall: call } = require(${JSON.stringify(join(ENGINES, 'host', 'channel.js'))});
const writeRaw = (buffer) => writeSync(4, buffer);
const done = (msg, result) => send(JSON.stringify({ t: 'done', id: msg.id, ok: true, result, logs: [] }));
send(JSON.stringify({ t: 'ready', engine: 'fake', version: '0' }));
for (;;) {
  const msg = receive(); if (msg === undefined) break;
  if (msg.t === 'run') { ${onRun} }
  else if (msg.t === 'compile') { ${onCompile} }
}
`,
      );
      return { engine: 'fake', entry, readPaths: [dir, `${ENGINES}/`], nodeFlags: [], startTimeoutMs: 10000 };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
