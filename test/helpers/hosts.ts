/**
 * Finds a running server's engine host processes from outside, as an
 * operator would: its process tree in /proc, each process's command line.
 * For tests that kill hosts, or check that none outlives its server.
 */
import { readFileSync } from 'node:fs';
import { processTree } from '../../src/procedures/confinement';

export interface HostProc {
  readonly pid: number;
  readonly engine: 'python' | 'javascript';
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The node processes (not their wrappers) running engine hosts under `serverPid`. */
export function enginePids(serverPid: number): HostProc[] {
  return processTree(serverPid)
    .slice(1)
    .map((pid) => ({ pid, line: cmdline(pid) }))
    .filter(({ line }) => /^\S*node\S* .*engines\/(python|javascript)\/host\.js/.test(line))
    .map(({ pid, line }) => ({ pid, engine: line.includes('engines/python/') ? 'python' : 'javascript' }));
}

/** Every process under `serverPid` (wrappers included), not the server itself. */
export function descendants(serverPid: number): number[] {
  return processTree(serverPid).slice(1);
}

/** Whether a process still exists (a zombie counts as gone). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Resident memory of one process, in MiB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Waits until `check` holds, polling; throws with `what` after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}
