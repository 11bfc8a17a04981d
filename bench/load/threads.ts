// CPU time of a server's process tree by thread group (main thread, libuv pool, V8's helpers), from /proc:
// what bench/load/get-cpu.ts and bench/readers/requests.ts split a request's CPU into.
import { readdir, readFile } from 'node:fs/promises';

/** CPU seconds of every thread of a process, by group: user and kernel time apart. */
export type Split = Record<string, { user: number; sys: number }>;

/** The group of a thread by its name: Node's main thread carries the process's name. */
function group(comm: string, tid: number, pid: number): string {
  if (tid === pid) return 'main';
  if (comm.startsWith('libuv-worker')) return 'pool';
  if (comm.startsWith('V8 ') || comm.startsWith('V8Worker') || comm.startsWith('node')) return 'v8';
  return 'other';
}

/** The pids of a process and all its descendants (a primary and its workers). */
export async function tree(pid: number): Promise<number[]> {
  const out = [pid];
  for (let k = 0; k < out.length && k < 1000; k++) {
    for (const t of await readdir(`/proc/${out[k]}/task`).catch(() => [] as string[])) {
      const kids = await readFile(`/proc/${out[k]}/task/${t}/children`, 'utf8').catch(() => '');
      for (const c of kids.split(' ')) if (c.trim()) out.push(Number(c));
    }
  }
  return out;
}

/** CPU time of every thread of the process tree of `root`, by group (a process's first thread is its main). */
export async function threads(root: number): Promise<Split> {
  const out: Split = {};
  for (const pid of await tree(root))
    for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
      const stat = await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').catch(() => '');
      if (!stat) continue;
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const g = (out[group(comm, Number(t), pid)] ??= { user: 0, sys: 0 });
      g.user += Number(f[11]) / 100;
      g.sys += Number(f[12]) / 100;
    }
  return out;
}

/**
 * Scheduler time of a thread group: on a core, waiting on a run queue for one (ns), times run, and the switches
 * off a core: voluntary (the thread slept: epoll, a futex) and involuntary (preempted while it could have run).
 */
export type Sched = Record<
  string,
  { runNs: number; waitNs: number; slices: number; voluntary: number; preempted: number }
>;

/**
 * /proc/PID/task/TID/schedstat of every thread of the process tree of `root`, by group (worker threads of
 * `cairn server` apart: Node names them `WorkerThread`): how long the threads waited for a core on a loaded machine.
 */
export async function schedstats(root: number): Promise<Sched> {
  const out: Sched = {};
  for (const pid of await tree(root))
    for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
      const [comm, sched, status] = await Promise.all([
        readFile(`/proc/${pid}/task/${t}/comm`, 'utf8').catch(() => ''),
        readFile(`/proc/${pid}/task/${t}/schedstat`, 'utf8').catch(() => ''),
        readFile(`/proc/${pid}/task/${t}/status`, 'utf8').catch(() => ''),
      ]);
      if (!sched) continue;
      const [run, wait, slices] = sched.trim().split(' ').map(Number);
      const name = comm.trim();
      const g = (out[name.startsWith('WorkerThread') ? 'worker' : group(name, Number(t), pid)] ??= {
        runNs: 0,
        waitNs: 0,
        slices: 0,
        voluntary: 0,
        preempted: 0,
      });
      g.runNs += run;
      g.waitNs += wait;
      g.slices += slices;
      g.voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      g.preempted += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    }
  return out;
}

/** `after` less `before`, group by group. */
export function schedDelta(after: Sched, before: Sched): Sched {
  const out: Sched = {};
  for (const [k, a] of Object.entries(after)) {
    const b = before[k] ?? { runNs: 0, waitNs: 0, slices: 0, voluntary: 0, preempted: 0 };
    out[k] = {
      runNs: a.runNs - b.runNs,
      waitNs: a.waitNs - b.waitNs,
      slices: a.slices - b.slices,
      voluntary: a.voluntary - b.voluntary,
      preempted: a.preempted - b.preempted,
    };
  }
  return out;
}
