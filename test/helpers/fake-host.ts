/**
 * Scripted fake engine hosts for tests of the server's side of the protocol
 * (host-process.ts, pool.ts): plain node programs, started with the real
 * spawn and permission flags, that speak the frames of engines/protocol.ts
 * and do whatever a test scripts for `run` and `compile` messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec } from '../../src/procedures/host-process';

export interface FakeHosts {
  /**
   * A spec whose host runs `onRun` for a run message and `onCompile` for a
   * compile message (JS source, with send(text), recv(), done(msg, result)
   * and the message `msg` in scope). By default compiles succeed at once.
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
        `const { readSync, writeSync } = require('node:fs');
function send(text) { const b = Buffer.from(text); const h = Buffer.alloc(4); h.writeUInt32LE(b.length, 0); writeSync(4, Buffer.concat([h, b])); }
function readN(n) { const b = Buffer.alloc(n); let off = 0; while (off < n) { let r; try { r = readSync(3, b, off, n - off, null); } catch (e) { if (e.code === 'EAGAIN') continue; throw e; } if (r === 0) return undefined; off += r; } return b; }
function recv() { const h = readN(4); if (!h) return undefined; const b = readN(h.readUInt32LE(0)); return b && b.toString(); }
const done = (msg, result) => send(JSON.stringify({ t: 'done', id: msg.id, ok: true, result, logs: [] }));
send(JSON.stringify({ t: 'ready', engine: 'fake', version: '0' }));
for (;;) {
  const text = recv(); if (text === undefined) break; const msg = JSON.parse(text);
  if (msg.t === 'run') { ${onRun} }
  else if (msg.t === 'compile') { ${onCompile} }
}
`,
      );
      return { engine: 'fake', entry, readPaths: [dir], nodeFlags: [], startTimeoutMs: 10000 };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
