/**
 * What a process tree costs, read from /proc (Linux): resident memory (sum
 * of RSS, and of PSS, which counts shared pages once) and CPU time (user +
 * system) of a process and all its descendants — the server and its engine
 * hosts, which are child processes.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The pid and every descendant's pid (children of every thread). */
export function treePids(root: number): number[] {
  const out: number[] = [];
  const visit = (pid: number): void => {
    out.push(pid);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(' ')) if (c.trim() !== '') visit(Number(c));
    }
  };
  visit(root);
  return out;
}

function statusKb(pid: number, field: string, file = 'status'): number {
  try {
    const text = readFileSync(`/proc/${pid}/${file}`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface TreeMemory {
  readonly processes: number;
  /** Sum of VmRSS, in MiB: what `ps` would add up. */
  readonly rssMb: number;
  /** Sum of Pss, in MiB: shared pages (the node binary, libraries) counted once. */
  readonly pssMb: number;
}

export function treeMemory(root: number): TreeMemory {
  const pids = treePids(root);
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    rss += statusKb(pid, 'VmRSS');
    pss += statusKb(pid, 'Pss', 'smaps_rollup');
  }
  return { processes: pids.length, rssMb: rss / 1024, pssMb: pss / 1024 };
}

/** CPU seconds (user + system) used so far by the tree. */
export function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of treePids(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}
