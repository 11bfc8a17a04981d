// Idle memory of `cairn server --workers N` with the workers as processes and as threads (--worker-mode): each
// server starts on 4 fresh drives under /dev/shm, serves (every worker ready), settles, and then the RSS and PSS
// of its process tree are read (PSS splits the pages the worker processes share, the node binary among them).
// Issue 14's target is an idle server < 150 MB.
//   node --import tsx bench/load/idle-memory.ts [--workers 2] [--settle 10s] [--modes processes,threads]
//     [--cairn-bin server/bin/cairn.js | --from-source]
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pssTree, sampleTree } from './procstat.js';
import { table } from './results.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, startCairn, stopServer } from './servers.js';
import { parseDuration } from './units.js';

const { values: v } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    settle: { type: 'string', default: '10s' },
    modes: { type: 'string', default: 'processes,threads' },
    'drives-dir': { type: 'string', default: '/dev/shm' },
    'cairn-bin': { type: 'string', default: DEFAULT_CAIRN_BIN },
    'from-source': { type: 'boolean', default: false },
  },
  strict: true,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const command = await cairnCommand(v['cairn-bin']!, v['from-source']!);
const rows = [['mode', 'workers', 'RSS (tree) MB', 'PSS (tree) MB', 'threads', 'load average']];
for (const mode of v.modes!.split(',')) {
  const cairn = await startCairn(command, v['drives-dir']!, 'cairn-idle', 'cairn-idle-secret-key', {
    CAIRN_WORKERS: v.workers,
    CAIRN_WORKER_MODE: mode,
  });
  try {
    // Health answers once one worker serves; the primary logs its url once every worker does.
    for (let waited = 0; !(await readFile(cairn.log, 'utf8')).includes('Cairn is serving S3'); waited += 250) {
      if (waited > 120_000) throw new Error(`${mode}: the server did not log that it serves`);
      await sleep(250);
    }
    await sleep(parseDuration(v.settle!));
    const pid = cairn.child.pid!;
    const { rssBytes } = await sampleTree(pid);
    const pss = await pssTree(pid);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    rows.push([
      mode,
      v.workers!,
      (rssBytes / 1e6).toFixed(0),
      (pss / 1e6).toFixed(0),
      /Threads:\s+(\d+)/.exec(status)?.[1] ?? '?',
      loadavg()[0].toFixed(1),
    ]);
  } finally {
    await stopServer(cairn, false);
  }
}
console.log(table(rows));
