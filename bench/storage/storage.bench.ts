// The storage engine alone (no HTTP): PUT and GET throughput of large objects, small-object operations
// per second, and the time to list 100,000 keys under one prefix. Prints one table.
// Run: npm run -w bench storage   (env: BENCH_DIR=/dev/shm, BENCH_LIST_KEYS=100000, BENCH_BIG_MIB=64)
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openStorage, type ErasureObjects } from '../../server/src/storage/index.js';
import { chunkedBody } from '../../test/helpers/streams.js';

const MiB = 1024 * 1024;
const base = process.env.BENCH_DIR ?? '/dev/shm';
const bigMiB = Number(process.env.BENCH_BIG_MIB ?? 64);
const bigCount = Number(process.env.BENCH_BIG_COUNT ?? 4);
const smallCount = Number(process.env.BENCH_SMALL_COUNT ?? 2000);
const listKeys = Number(process.env.BENCH_LIST_KEYS ?? 100_000);

const chunked = (buf: Buffer) => chunkedBody(buf, 64 * 1024);

async function drain(r: Readable): Promise<number> {
  let n = 0;
  await pipeline(
    r,
    new Writable({
      write(c: Buffer, _e, cb) {
        n += c.length;
        cb();
      },
    }),
  );
  return n;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e9];
}

async function withStorage<T>(n: number, fn: (s: ErasureObjects) => Promise<T>): Promise<T> {
  const root = await mkdtemp(join(base, 'cairn-bench-'));
  const drives = Array.from({ length: n }, (_, i) => join(root, `d${i + 1}`));
  const s = await openStorage({ drives, background: false });
  try {
    await s.makeBucket('bench');
    return await fn(s);
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
}

const rows: [string, string, string][] = [];

await withStorage(4, async (s) => {
  const buf = randomBytes(bigMiB * MiB);
  const [, tPut] = await timed(async () => {
    for (let i = 0; i < bigCount; i++) await s.putObject('bench', `big/${i}`, chunked(buf), { size: buf.length });
  });
  rows.push([
    `PUT ${bigMiB} MiB x${bigCount} (2+2)`,
    `${((bigMiB * bigCount) / tPut).toFixed(0)} MiB/s`,
    `${tPut.toFixed(2)} s`,
  ]);
  const [, tGet] = await timed(async () => {
    for (let i = 0; i < bigCount; i++) await drain(await (await s.openObject('bench', `big/${i}`)).read());
  });
  rows.push([
    `GET ${bigMiB} MiB x${bigCount} (2+2)`,
    `${((bigMiB * bigCount) / tGet).toFixed(0)} MiB/s`,
    `${tGet.toFixed(2)} s`,
  ]);

  const small = randomBytes(4096);
  const conc = 16;
  const [, tSmallPut] = await timed(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < smallCount) {
          const i = next++;
          await s.putObject('bench', `small/${i}`, chunked(small), { size: small.length });
        }
      }),
    );
  });
  rows.push([
    `PUT 4 KiB x${smallCount} (16 concurrent)`,
    `${(smallCount / tSmallPut).toFixed(0)} ops/s`,
    `${tSmallPut.toFixed(2)} s`,
  ]);
  const [, tSmallGet] = await timed(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < smallCount) {
          const i = next++;
          await drain(await (await s.openObject('bench', `small/${i}`)).read());
        }
      }),
    );
  });
  rows.push([
    `GET 4 KiB x${smallCount} (16 concurrent)`,
    `${(smallCount / tSmallGet).toFixed(0)} ops/s`,
    `${tSmallGet.toFixed(2)} s`,
  ]);
});

// Listing: 100k keys under one prefix on 4 drives; the keys are written, then the engine is reopened
// so the listing starts cold (no in-memory cache): it reads the drives' journals.
{
  const root = await mkdtemp(join(base, 'cairn-bench-list-'));
  const drives = Array.from({ length: 4 }, (_, i) => join(root, `d${i + 1}`));
  try {
    let s = await openStorage({ drives, background: false });
    await s.makeBucket('bench');
    const tiny = Buffer.from('x');
    const [, tFill] = await timed(async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < listKeys) {
            const i = next++;
            await s.putObject('bench', `many/key-${String(i).padStart(7, '0')}`, chunked(tiny), { size: 1 });
          }
        }),
      );
    });
    rows.push([
      `fill: PUT ${listKeys} x 1 B (32 concurrent)`,
      `${(listKeys / tFill).toFixed(0)} ops/s`,
      `${tFill.toFixed(1)} s`,
    ]);
    await s.close();
    s = await openStorage({ drives, background: false });
    const listAll = async () => {
      let n = 0;
      let after: string | undefined;
      for (;;) {
        const r = await s.listObjects('bench', { prefix: 'many/', maxKeys: 1000, after });
        n += r.objects.length;
        if (!r.isTruncated) return n;
        after = r.nextAfter;
      }
    };
    // CPU time is shown too: on a shared machine the wall time says as much about the neighbours.
    const cpu0 = process.cpuUsage();
    const [n1, tCold] = await timed(listAll);
    const cpu1 = process.cpuUsage(cpu0);
    rows.push([
      `LIST ${n1} keys, cold (1000/page)`,
      `${(n1 / tCold).toFixed(0)} keys/s`,
      `${tCold.toFixed(2)} s (cpu ${((cpu1.user + cpu1.system) / 1e6).toFixed(2)} s)`,
    ]);
    const cpu2 = process.cpuUsage();
    const [n2, tWarm] = await timed(listAll);
    const cpu3 = process.cpuUsage(cpu2);
    rows.push([
      `LIST ${n2} keys, warm (1000/page)`,
      `${(n2 / tWarm).toFixed(0)} keys/s`,
      `${tWarm.toFixed(2)} s (cpu ${((cpu3.user + cpu3.system) / 1e6).toFixed(2)} s)`,
    ]);
    await s.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const w = [
  Math.max(...rows.map((r) => r[0].length)),
  Math.max(...rows.map((r) => r[1].length)),
  Math.max(...rows.map((r) => r[2].length)),
];
console.log(
  `Cairn storage engine, 4 drives (2+2) on ${base}, node ${process.version}, load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
);
console.log(`| ${'case'.padEnd(w[0])} | ${'rate'.padEnd(w[1])} | ${'time'.padEnd(w[2])} |`);
console.log(`|${'-'.repeat(w[0] + 2)}|${'-'.repeat(w[1] + 2)}|${'-'.repeat(w[2] + 2)}|`);
for (const r of rows) console.log(`| ${r[0].padEnd(w[0])} | ${r[1].padEnd(w[1])} | ${r[2].padEnd(w[2])} |`);
