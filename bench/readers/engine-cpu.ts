// CPU of the storage engine alone (no HTTP) for 8 MiB ranged reads against whole reads of the same bytes,
// split by thread: the main thread (JS: metadata, batches, streams), the libuv pool and the native pool
// (shard reads, hashes), and the rest. Reads go through openObject + read() as a GET does, the body drained
// with chunks given back. Run with --cpu-prof to see the main thread's part.
//   node --import tsx bench/readers/engine-cpu.ts [--requests 400] [--kind range|aligned|whole|all]
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import { openStorage } from '../../server/src/storage/index.js';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const OBJECTS = 8;
const { values: v } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    kind: { type: 'string', default: 'all' },
    concurrency: { type: 'string', default: '1' },
  },
});

/** CPU seconds per thread name (comm) of this process. */
function threads(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const group = t === String(process.pid) ? 'main' : name.replace(/[0-9]+$/, '');
      out.set(group, (out.get(group) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

// Fresh big buffers (pool misses and copies): external memory that makes V8 mark-compact.
const fresh = { n: 0, bytes: 0 };
for (const name of ['allocUnsafeSlow', 'allocUnsafe', 'alloc'] as const) {
  const orig = Buffer[name].bind(Buffer) as (size: number, ...rest: unknown[]) => Buffer;
  (Buffer as unknown as Record<string, unknown>)[name] = (size: number, ...rest: unknown[]) => {
    if (size >= 64 * 1024) {
      fresh.n++;
      fresh.bytes += size;
    }
    return orig(size, ...rest);
  };
}

// Main-thread GC pauses by kind (1 scavenge, 4 mark-compact, 8 incremental, 16 weak callbacks).
const gc = new Map<number, { n: number; ms: number }>();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail: { kind: number } }).detail.kind;
    const g = gc.get(kind) ?? { n: 0, ms: 0 };
    g.n++;
    g.ms += e.duration;
    gc.set(kind, g);
  }
}).observe({ entryTypes: ['gc'] });

const base = await mkdtemp(join('/dev/shm', 'cairn-engine-cpu-'));
const storage = await openStorage({ drives: [1, 2, 3, 4].map((i) => join(base, `d${i}`)), background: false });
try {
  await storage.makeBucket('bench');
  const blob = randomBytes(SIZE);
  for (let o = 0; o < OBJECTS; o++) await storage.putObject('bench', `o${o}`, Readable.from([blob]), { size: SIZE });
  const kinds = v.kind === 'all' ? ['whole', 'range', 'aligned'] : [v.kind!];
  const rows: string[] = [];
  for (const kind of kinds) {
    const n = kind === 'whole' ? Number(v.requests) / 8 : Number(v.requests);
    let next = 0;
    let bytes = 0;
    const f0 = { ...fresh };
    gc.clear();
    const before = threads();
    const t0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: Number(v.concurrency) }, async () => {
        while (next < n) {
          next++;
          const o = Math.floor(Math.random() * OBJECTS);
          let range: { start: number; end: number } | undefined;
          if (kind !== 'whole') {
            const start =
              kind === 'aligned'
                ? Math.floor(Math.random() * 8) * 8 * MiB
                : Math.floor(Math.random() * (SIZE - 8 * MiB));
            range = { start, end: start + 8 * MiB - 1 };
          }
          const opened = await storage.openObject('bench', `o${o}`);
          const body = await opened.read(range);
          for await (const c of body) {
            bytes += (c as Buffer).length;
            body.recycle?.(c as Buffer);
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 50)); // gc entries arrive after the pause
    const cpu = process.cpuUsage(t0);
    const gcs = [...gc].map(([k, g]) => `gc${k}:${g.n}/${g.ms.toFixed(0)}ms`).join(' ');
    const after = threads();
    const gib = bytes / 1024 ** 3;
    const per = [...after]
      .map(([k, s]) => [k, (s - (before.get(k) ?? 0)) / gib] as const)
      .filter(([, s]) => s > 0)
      .map(([k, s]) => `${k}=${s.toFixed(3)}`)
      .join(' ');
    const total = (cpu.user + cpu.system) / 1e6;
    rows.push(
      `${kind.padEnd(8)} ${n} reqs ${(total / gib).toFixed(3)} CPU-s/GiB  ${((total / n) * 1000).toFixed(2)} ms/req  ${per}  fresh>=64KiB ${((fresh.n - f0.n) / n).toFixed(2)}/req ${((fresh.bytes - f0.bytes) / n / 1024).toFixed(0)} KiB/req ${gcs}`,
    );
  }
  console.log(rows.join('\n'));
  console.log(
    `load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await storage.close();
  await rm(base, { recursive: true, force: true });
}
