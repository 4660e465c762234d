/**
 * OS-level confinement of engine hosts, under the language sandboxes and
 * Node's permission model: where the system allows it, each host starts in
 * its own network namespace (no interfaces at all: no network), its own PID
 * namespace (it cannot see or signal the server or other hosts) and as the
 * unprivileged user `nobody`. Probed once at start; when the system refuses
 * (no CAP_SYS_ADMIN, no user namespaces) hosts run without it and a warning
 * says so. Also measures a host's memory across its process tree.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log';

const NOBODY = 65534;

const CANDIDATES: readonly (readonly string[])[] = [
  // Changing the uid clears the parent-death signal, so setpriv sets it again afterwards.
  ['unshare', '--net', '--pid', '--fork', '--kill-child', '--', 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--pdeathsig', 'SIGKILL', '--'],
  ['unshare', '--net', '--pid', '--fork', '--kill-child', '--'],
  ['unshare', '--net', '--'],
];

/** The first confinement prefix that can start Node and read the server's own files, or undefined. */
export async function networkWrapper(log: Logger): Promise<readonly string[] | undefined> {
  const probe = `require('fs').readFileSync(${JSON.stringify(__filename)}); if (Object.keys(require('os').networkInterfaces()).some((n) => n !== 'lo')) process.exit(3)`;
  for (const prefix of CANDIDATES) {
    const [command, ...args] = prefix;
    const result = spawnSync(command as string, [...args, process.execPath, '-e', probe], { env: {}, stdio: 'ignore', timeout: 10_000 });
    if (result.status === 0) {
      log.info('engine hosts confined', { namespaces: prefix.includes('--pid') ? 'net,pid' : 'net', user: prefix.includes('setpriv') ? 'nobody' : 'same' });
      return prefix;
    }
  }
  log.warn('engine hosts run without network/PID namespaces: this system does not allow unshare; the permission model and the language sandboxes still apply');
  return undefined;
}

/** A process and all its descendants, parents first (empty if gone). */
export function processTree(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop() as number;
    found.push(next);
    try {
      for (const child of readFileSync(`/proc/${next}/task/${next}/children`, 'utf8').split(' ')) if (child.trim() !== '') pending.push(Number(child));
    } catch {
      // Gone, or no /proc: nothing below it to find.
    }
  }
  return found;
}

/** Resident memory of a process and all its descendants, in bytes (0 if gone). */
export async function treeResidentBytes(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop() as number;
    try {
      const [status, children] = await Promise.all([readFile(`/proc/${next}/status`, 'utf8'), readFile(`/proc/${next}/task/${next}/children`, 'utf8').catch(() => '')]);
      const match = /VmRSS:\s+(\d+) kB/.exec(status);
      if (match) total += Number(match[1]) * 1024;
      for (const child of children.split(' ')) if (child.trim() !== '') pending.push(Number(child));
    } catch {
      // The process ended while we looked: it holds no memory.
    }
  }
  return total;
}
