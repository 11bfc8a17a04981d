// ListMultipartUploads in the storage engine (no HTTP) with many uploads in progress: the time of the first
// page, of a page from a marker in the middle, of a page after one more upload (the index's tail read), and of
// walking every page, 1,000 uploads a page as S3 gives them; CPU time beside each. Prints one table.
// Run: npm run -w bench multipart-list   (env: BENCH_DIR=/dev/shm, BENCH_UPLOADS=10000, BENCH_DRIVES=4)
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openStorage } from '../../server/src/storage/index.js';

const base = process.env.BENCH_DIR ?? '/dev/shm';
const uploads = Number(process.env.BENCH_UPLOADS ?? 10_000);
const driveCount = Number(process.env.BENCH_DRIVES ?? 4);
const PAGE = 1000;

const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const cpuMs = (c: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000;
};

const root = await mkdtemp(join(base, 'cairn-bench-mp-'));
const s = await openStorage({
  drives: Array.from({ length: driveCount }, (_, i) => join(root, `d${i + 1}`)),
  background: false,
});
try {
  await s.makeBucket('bench');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < uploads; i += 100)
    await Promise.all(
      Array.from({ length: Math.min(100, uploads - i) }, (_, j) =>
        s.newMultipartUpload('bench', `dir${(i + j) % 50}/key-${String(i + j).padStart(7, '0')}`, {}),
      ),
    );
  const created = ms(t0);
  const rows: [string, number, number][] = [];
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    const out = await fn();
    rows.push([what, ms(t), cpuMs(c)]);
    return out;
  };
  let page = await timed('first page (cold)', () => s.listMultipartUploads('bench', { maxUploads: PAGE }));
  page = await timed('first page (again)', () => s.listMultipartUploads('bench', { maxUploads: PAGE }));
  const middle = `dir25/`;
  await timed('a page from a marker in the middle', () =>
    s.listMultipartUploads('bench', { maxUploads: PAGE, keyMarker: middle }),
  );
  await s.newMultipartUpload('bench', 'dir0/one-more', {});
  await timed('first page after one more upload', () => s.listMultipartUploads('bench', { maxUploads: PAGE }));
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  let pages = 1;
  let listed = page.uploads.length;
  while (page.isTruncated) {
    page = await s.listMultipartUploads('bench', {
      maxUploads: PAGE,
      keyMarker: page.nextKeyMarker,
      uploadIdMarker: page.nextUploadIdMarker,
    });
    pages++;
    listed += page.uploads.length;
  }
  rows.push([`every page (${pages - 1} more)`, ms(t), cpuMs(c)]);
  if (listed !== uploads) throw new Error(`listed ${listed} of ${uploads} uploads`);
  console.log(`ListMultipartUploads: ${uploads} uploads in progress, ${driveCount} drives, ${PAGE} a page`);
  console.log(`(created in ${(created / 1000).toFixed(1)} s)`);
  console.log('| listing | ms | CPU ms |\n|---|---|---|');
  for (const [what, v, cpu] of rows) console.log(`| ${what} | ${v.toFixed(0)} | ${cpu.toFixed(0)} |`);
} finally {
  await s.close();
  await rm(root, { recursive: true, force: true });
}
