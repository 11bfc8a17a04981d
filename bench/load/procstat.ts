// Samples a server's resident memory and CPU from /proc while the suite runs: the process and all its
// descendants (a server may fork workers that share the port), summed.
import { readFile, readdir } from 'node:fs/promises';

export interface ProcSample {
  rssBytes: number;
  /** utime + stime of the live processes, in seconds. */
  cpuSeconds: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

async function children(pid: number): Promise<number[]> {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const text = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8');
      for (const c of text.split(' ')) if (c.trim()) out.push(Number(c));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

async function one(pid: number): Promise<ProcSample> {
  try {
    const [status, stat] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8'),
      readFile(`/proc/${pid}/stat`, 'utf8'),
    ]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    // Fields after the ")" that closes the command name: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssBytes: rss ? Number(rss[1]) * 1024 : 0, cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS };
  } catch {
    return { rssBytes: 0, cpuSeconds: 0 };
  }
}

/**
 * CPU seconds of the event loops of the process and all its descendants: each process's main thread and its
 * worker threads (node names them `WorkerThread`; `cairn server --workers N` runs its workers as such), not the
 * libuv pool's or V8's helper threads.
 */
export async function eventLoopSeconds(pid: number): Promise<number> {
  let total = 0;
  const queue = [pid];
  for (let depth = 0; queue.length > 0 && depth < 1000; depth++) {
    const p = queue.shift()!;
    let tasks: string[] = [];
    try {
      tasks = await readdir(`/proc/${p}/task`);
    } catch {
      // the process ended meanwhile
    }
    for (const t of tasks) {
      try {
        if (t !== String(p) && (await readFile(`/proc/${p}/task/${t}/comm`, 'utf8')).trim() !== 'WorkerThread')
          continue;
        const stat = await readFile(`/proc/${p}/task/${t}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total += (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
      } catch {
        // the thread ended meanwhile
      }
    }
    queue.push(...(await children(p)));
  }
  return total;
}

/**
 * CPU seconds of every live thread of the process and all its descendants, from each thread's schedstat (run
 * time in nanoseconds): /proc's utime and stime count 10 ms ticks, too coarse for a query of 0.2 s. A thread
 * that ended meanwhile is not counted (servers keep their threads).
 */
export async function schedSecondsTree(pid: number): Promise<number> {
  let ns = 0;
  const queue = [pid];
  for (let depth = 0; queue.length > 0 && depth < 1000; depth++) {
    const p = queue.shift()!;
    const tasks = await readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const t of tasks) {
      const text = await readFile(`/proc/${p}/task/${t}/schedstat`, 'utf8').catch(() => '');
      ns += Number(text.split(' ')[0]) || 0;
    }
    queue.push(...(await children(p)));
  }
  return ns / 1e9;
}

/**
 * The proportional set size of the process tree: each page counted once, shared ones split among their
 * sharers (RSS sums count the node binary once per worker).
 */
export async function pssTree(pid: number): Promise<number> {
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const text = await readFile(`/proc/${p}/smaps_rollup`, 'utf8').catch(() => '');
    total += Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
    queue.push(...(await children(p)));
  }
  return total;
}

export async function sampleTree(pid: number): Promise<ProcSample> {
  const total: ProcSample = { rssBytes: 0, cpuSeconds: 0 };
  const queue = [pid];
  for (let depth = 0; queue.length > 0 && depth < 1000; depth++) {
    const p = queue.shift()!;
    const s = await one(p);
    total.rssBytes += s.rssBytes;
    total.cpuSeconds += s.cpuSeconds;
    queue.push(...(await children(p)));
  }
  return total;
}

/** Samples every intervalMs until stopped; keeps the maximum RSS per label (the suite's phase). */
export class ProcSampler {
  maxBytes = 0;
  samples = 0;
  readonly perLabelMax: Record<string, number> = {};
  label = 'start';
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const s = await sampleTree(this.pid);
      if (s.rssBytes === 0) return;
      this.samples++;
      this.maxBytes = Math.max(this.maxBytes, s.rssBytes);
      this.perLabelMax[this.label] = Math.max(this.perLabelMax[this.label] ?? 0, s.rssBytes);
    } finally {
      this.busy = false;
    }
  }

  /** CPU seconds used so far by the process tree. */
  async cpuSeconds(): Promise<number> {
    return (await sampleTree(this.pid)).cpuSeconds;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
