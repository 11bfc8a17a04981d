// A whole listing of many keys through one endpoint (issue 18's target: 1,000,000 keys across a 4-node cluster at
// 50,000 keys/s): fills the bucket with KEYS keys of 1 byte (bench/load's writers), unless --no-fill, then walks
// the prefix with ListObjectsV2 pages of 1000 (continuation tokens, one page at a time, as a client pages) --passes
// times. Prints, per pass, keys/s and the CPU of the server processes given (--pids, each with its descendants and
// threads) per 1000 keys; the keys a pass found must be the keys written. bench/storage/cluster-list.sh runs it
// against 4 nodes.
//   node --import tsx bench/storage/list-walk.ts --endpoint URL --access-key AK --secret-key SK [--keys 50000]
//     [--fill-concurrency 32] [--passes 3] [--pids 11,12,13,14] [--no-fill]
import { parseArgs } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { LoadConfig } from '../load/config.js';
import { sampleTree } from '../load/procstat.js';
import { ensureBucket, runPhase } from '../load/run.js';

const { values: v } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    'access-key': { type: 'string' },
    'secret-key': { type: 'string' },
    bucket: { type: 'string', default: 'listing' },
    keys: { type: 'string', default: '50000' },
    'fill-concurrency': { type: 'string', default: '32' },
    passes: { type: 'string', default: '3' },
    pids: { type: 'string', default: '' },
    'no-fill': { type: 'boolean', default: false },
  },
});
const keys = Number(v.keys);
const pids = v.pids ? v.pids.split(',').map(Number) : [];
const prefix = 'many/';
const cpu = async () => (await Promise.all(pids.map(sampleTree))).reduce((n, s) => n + s.cpuSeconds, 0);
const round = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const cfg: LoadConfig = {
  name: 'list-fill',
  mode: 'put',
  endpoint: v.endpoint!,
  accessKey: v['access-key']!,
  secretKey: v['secret-key']!,
  region: 'us-east-1',
  bucket: v.bucket!,
  prefix,
  objSize: 1,
  objects: keys,
  concurrency: Number(v['fill-concurrency']),
  durationMs: 24 * 3600_000,
  rangeSize: 1,
  rangeAlign: 1,
  getRatio: 0,
  listMaxKeys: 1000,
  workers: 1,
  prepare: false,
  limit: keys,
};
await ensureBucket(cfg);
const rows: string[][] = [];
if (!v['no-fill']) {
  const c0 = await cpu();
  const r = await runPhase(cfg);
  const put = r.ops.put;
  if (!put || put.ops < keys)
    throw new Error(`fill: wrote ${put?.ops ?? 0} of ${keys}: ${put?.errorSamples.join('; ')}`);
  const used = (await cpu()) - c0;
  rows.push([
    `fill: PUT ${round(keys)} x 1 B, c${cfg.concurrency}`,
    `${round(keys / r.seconds)} PUT/s`,
    `${round(r.seconds, 1)} s`,
    pids.length ? `${round((used / keys) * 1000, 2)} CPU-s / 1000 PUTs` : '',
  ]);
}

const s3 = new S3Client({
  endpoint: v.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: v['access-key']!, secretAccessKey: v['secret-key']! },
});
for (let pass = 1; pass <= Number(v.passes); pass++) {
  const c0 = await cpu();
  const t0 = performance.now();
  let n = 0;
  let last = '';
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: v.bucket, Prefix: prefix, MaxKeys: 1000, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key! <= last) throw new Error(`listing out of order: ${o.Key} after ${last}`);
      last = o.Key!;
      n++;
    }
    token = page.NextContinuationToken;
  } while (token);
  const seconds = (performance.now() - t0) / 1000;
  const used = (await cpu()) - c0;
  if (n !== keys) throw new Error(`pass ${pass} listed ${n} keys, not ${keys}`);
  rows.push([
    `LIST ${round(n)} keys, pass ${pass} (1000/page)`,
    `${round(n / seconds)} keys/s`,
    `${round(seconds, 2)} s`,
    pids.length ? `${round((used / n) * 1000, 3)} CPU-s / 1000 keys` : '',
  ]);
}
s3.destroy();

const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`| ${['case', 'rate', 'time', 'server CPU'].map((h, i) => h.padEnd(w[i])).join(' | ')} |`);
console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
for (const r of rows) console.log(`| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`);
