// CPU of a replicated version's COMPLETED status update alone (storage.updateReplication, as the replicator's
// setStatus calls it once the target has the copy), on 4 drives in /dev/shm: objects of 4 KiB put PENDING at one
// target, each read once (the replicator reads what it sends), then each set COMPLETED. Prints the process's CPU
// (threadpool included) per update, per run, and the load. --cpu-prof DIR writes a profile of the updates.
//   node --conditions=source --import tsx bench/replication/status.bench.ts [--objects 2000] [--runs 3]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { attempted } from '../../server/src/api/replication/status.js';
import { openStorage } from '../../server/src/storage/index.js';

const { values: v } = parseArgs({
  options: {
    objects: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const N = Number(v.objects);
const ARN = 'arn:minio:replication::bench:target';
const body = Buffer.alloc(4096, 7);
const session = v['cpu-prof'] ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
}
console.log(`${N} objects of 4 KiB, 4 drives; CPU us per COMPLETED update (threadpool included)`);
for (let run = 1; run <= Number(v.runs); run++) {
  const base = await mkdtemp(join('/dev/shm', 'cairn-status-bench-'));
  const storage = await openStorage({ drives: [1, 2, 3, 4].map((i) => join(base, `d${i}`)), background: false });
  try {
    await storage.makeBucket('bench');
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const info = await storage.putObject('bench', `o${i}`, Readable.from([body]), {
        size: body.length,
        replicationStatus: 'PENDING',
        replicationTargets: { [ARN]: { status: 'PENDING', change: `c${i}` } },
      });
      ids.push(info.versionId ?? 'null');
    }
    for (let i = 0; i < N; i++) await storage.headObject('bench', `o${i}`, { versionId: ids[i] });
    if (session && run === Number(v.runs)) await session.post('Profiler.start');
    const c = process.cpuUsage();
    for (let i = 0; i < N; i++)
      await storage.updateReplication('bench', `o${i}`, ids[i], (cur) => attempted(cur, ARN, `c${i}`, 'COMPLETED'));
    const used = process.cpuUsage(c);
    if (session && run === Number(v.runs)) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(join(v['cpu-prof']!, `status-${process.pid}.cpuprofile`), JSON.stringify(profile));
    }
    const info = await storage.headObject('bench', `o${N - 1}`, { versionId: ids[N - 1] });
    if (info.replicationStatus !== 'COMPLETED') throw new Error(`status ${info.replicationStatus}, not COMPLETED`);
    console.log(`run ${run}: ${((used.user + used.system) / N).toFixed(0)} us`);
  } finally {
    await storage.close();
    await rm(base, { recursive: true, force: true });
  }
}
console.log(
  `load average: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`,
);
