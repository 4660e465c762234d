/**
 * Preloaded into a bench server (`node -r dist/scripts/bench/chain-stamps.js
 * dist/src/main.js …`, started by run-chain.ts): stamps each unary call's
 * way through the server on the monotonic clock the client and the hosts
 * share. It marks when the handler starts, when the run message is written
 * to a host's pipe and when that write returns, when the host's first bytes
 * arrive, and when the answer is handed to grpc-js and that hand-off
 * returns. It also marks when the check phase runs after it (the HTTP/2
 * flush happens there). It wraps the server's own functions from outside,
 * so the server's code carries no stamps. The stamps are written as JSON
 * lines to `lucien-chain-<pid>.jsonl` in the temp folder when the server
 * exits.
 *
 * For concurrency 1 only: one call at a time is followed. Must never be
 * loaded into a server that serves anything but a bench.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as adapt from '../../src/server/adapt';
import { HostProcess } from '../../src/procedures/host-process';
import { HostReader } from '../../src/procedures/host-reader';

/** One call's stamps, µs on the monotonic clock; absent when the call never reached that point. */
export interface ChainStamps {
  /** The method, or the script's name for Run. */
  readonly m: string;
  /** Handler starts. */
  readonly a: number;
  /** Run message write starts / returns (the host may run inside it). */
  w0?: number;
  w1?: number;
  /** First bytes from the host after the run was written. */
  d?: number;
  /** Answer handed to grpc-js / the hand-off returned. */
  cb0?: number;
  cb1?: number;
  /** The check phase after the hand-off (the response's bytes were flushed just before). */
  imm?: number;
}

export const chainFile = (pid: number): string => join(tmpdir(), `lucien-chain-${pid}.jsonl`);

const now = (): number => Number(process.hrtime.bigint()) / 1e3;
const calls: ChainStamps[] = [];
let current: ChainStamps | undefined;

type Handler = (call: { request: unknown }, callback: (...args: unknown[]) => void) => void;
type Unary = (...args: unknown[]) => Handler;

const mutableAdapt = adapt as unknown as { unary: Unary };
const unary = mutableAdapt.unary;
mutableAdapt.unary = (...args: unknown[]): Handler => {
  const method = String(args[1]);
  const handler = unary(...args);
  return (call, callback) => {
    const name = method === 'Run' ? (call.request as { name?: unknown }).name : undefined;
    const stamps: ChainStamps = { m: typeof name === 'string' ? name : method, a: now() };
    current = stamps;
    calls.push(stamps);
    handler(call, (...answer: unknown[]) => {
      stamps.cb0 = now();
      callback(...answer);
      stamps.cb1 = now();
      setImmediate(() => {
        stamps.imm = now();
      });
    });
  };
};

const hostProto = HostProcess.prototype as unknown as { write(body: string): void };
const write = hostProto.write;
hostProto.write = function (this: HostProcess, body: string): void {
  const run = current !== undefined && body.startsWith('{"t":"run"') ? current : undefined;
  if (run !== undefined) run.w0 = now();
  write.call(this, body);
  if (run !== undefined) run.w1 = now();
};

const push = HostReader.prototype.push;
HostReader.prototype.push = function (this: HostReader, chunk: Buffer): void {
  if (current?.w1 !== undefined && current.d === undefined) current.d = now();
  push.call(this, chunk);
};

process.on('exit', () => {
  writeFileSync(chainFile(process.pid), calls.map((c) => JSON.stringify(c)).join('\n'));
});
