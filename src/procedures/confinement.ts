/**
 * OS-level confinement of engine hosts, under the language sandboxes and
 * Node's permission model: where the system allows it, each host starts in
 * its own network namespace (no interfaces at all: no network), its own PID
 * namespace (it cannot see or signal the server or other hosts) and as the
 * unprivileged user `nobody`. Probed once at start; when the system refuses
 * (no CAP_SYS_ADMIN, no user namespaces) hosts run without it and a warning
 * says so. In every case a host dies with the server: each prefix starts with
 * `setpriv --pdeathsig SIGKILL`, so the kernel kills the host (or its
 * wrapper, whose --kill-child / own pdeathsig takes the host with it) the
 * moment the server process dies, whatever the host is doing, even spinning
 * in a script. Also measures a host's memory across its process tree.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log';

const NOBODY = 65534;

/** The kernel sends the host SIGKILL when the server (its parent) dies. */
const DIE_WITH_PARENT: readonly string[] = ['setpriv', '--pdeathsig', 'SIGKILL', '--'];

const CANDIDATES: readonly (readonly string[])[] = [
  // Changing the uid clears the parent-death signal, so setpriv sets it again afterwards.
  [
    ...DIE_WITH_PARENT,
    'unshare',
    '--net',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    'setpriv',
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    '--clear-groups',
    '--pdeathsig',
    'SIGKILL',
    '--',
  ],
  [...DIE_WITH_PARENT, 'unshare', '--net', '--pid', '--fork', '--kill-child', '--'],
  [...DIE_WITH_PARENT, 'unshare', '--net', '--'],
];

function works(prefix: readonly string[], probe: string): boolean {
  const [command, ...args] = prefix;
  return (
    spawnSync(command as string, [...args, process.execPath, '-e', probe], {
      env: {},
      stdio: 'ignore',
      timeout: 10_000,
    }).status === 0
  );
}

/**
 * The command prefix engine hosts start under: the first namespace
 * confinement that can start Node and read the server's own files (unless
 * `namespaces` is false), else only the parent-death signal, else nothing.
 */
export async function networkWrapper(log: Logger, namespaces = true): Promise<readonly string[] | undefined> {
  const probe = `require('fs').readFileSync(${JSON.stringify(__filename)}); if (Object.keys(require('os').networkInterfaces()).some((n) => n !== 'lo')) process.exit(3)`;
  for (const prefix of namespaces ? CANDIDATES : []) {
    if (works(prefix, probe)) {
      log.info('engine hosts confined', {
        namespaces: prefix.includes('--pid') ? 'net,pid' : 'net',
        user: prefix.includes(`--reuid=${NOBODY}`) ? 'nobody' : 'same',
      });
      return prefix;
    }
  }
  if (namespaces)
    log.warn(
      'engine hosts run without network/PID namespaces: this system does not allow unshare; the permission model and the language sandboxes still apply',
    );
  else log.info('engine hosts run without namespaces (LUCIEN_ENGINE_NAMESPACES=off)');
  if (works(DIE_WITH_PARENT, `require('fs').readFileSync(${JSON.stringify(__filename)})`)) return DIE_WITH_PARENT;
  log.warn(
    'setpriv is not available: engine hosts stop when their pipe closes, but one spinning in a script outlives a server killed with SIGKILL',
  );
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
      for (const child of readFileSync(`/proc/${next}/task/${next}/children`, 'utf8').split(' '))
        if (child.trim() !== '') pending.push(Number(child));
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
      const [status, children] = await Promise.all([
        readFile(`/proc/${next}/status`, 'utf8'),
        readFile(`/proc/${next}/task/${next}/children`, 'utf8').catch(() => ''),
      ]);
      const match = /VmRSS:\s+(\d+) kB/.exec(status);
      if (match) total += Number(match[1]) * 1024;
      for (const child of children.split(' ')) if (child.trim() !== '') pending.push(Number(child));
    } catch {
      // The process ended while we looked: it holds no memory.
    }
  }
  return total;
}
