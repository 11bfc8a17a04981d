// Drive reads per request of the readers' habits (issue 23, item 3): Cairn in this process (its storage
// opened here, served over HTTP as `cairn server` serves it), the habits of habits.py sent through the AWS
// SDK, and the storage engine's own counters read around each pattern: metadata reads (one per object
// resolve: every drive's metadata file checked), shard reads (one per file span read on a drive), the pool
// calls they took (the data shards of a batch in one), the bytes read, and read-ahead batches shared. No
// timing is measured; the counts are the same on any machine but for what the read-ahead cache shares (its
// batches linger 2 s: a slow machine sees fewer of the same batch again).
// With --metadata-cache-ms N the storage keeps each metadata read for N ms (CAIRN_METADATA_CACHE_MS): the
// metadata reads a cache of that time saves per habit.
//   node --import tsx bench/readers/counts.ts [--rounds 20] [--metadata-cache-ms 0]
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { startServer } from '../../server/src/main.js';
import { openStorage } from '../../server/src/storage/index.js';
import { table } from '../load/results.js';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const PART = 8 * MiB;
const ROOT = { accessKey: 'counts', secretKey: 'counts-secret-key' };

const { values: v } = parseArgs({
  options: { rounds: { type: 'string', default: '20' }, 'metadata-cache-ms': { type: 'string', default: '0' } },
});
const rounds = Number(v.rounds);

const base = await mkdtemp(join('/dev/shm', 'cairn-counts-'));
const storage = await openStorage({
  drives: [1, 2, 3, 4].map((i) => join(base, `d${i}`)),
  background: false,
  metadataCacheMs: Number(v['metadata-cache-ms']),
});
const server = await startServer({
  address: '127.0.0.1:0',
  credentials: { root: ROOT, users: [] },
  gateway: { open: async () => storage, systemDir: join(base, 'sys') },
  drives: [],
});
const s3 = new S3Client({
  endpoint: server.url,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: ROOT.accessKey, secretAccessKey: ROOT.secretKey },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const Bucket = 'counts';

async function body(r: { Body?: unknown }): Promise<number> {
  return (await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).length;
}
const get = async (Key: string, extra: Record<string, unknown> = {}) =>
  body(await s3.send(new GetObjectCommand({ Bucket, Key, ...extra })));

try {
  await s3.send(new CreateBucketCommand({ Bucket }));
  const blob = Buffer.alloc(SIZE, 7);
  for (let i = 0; i < 4; i++) await s3.send(new PutObjectCommand({ Bucket, Key: `o${i}`, Body: blob }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp' }));
  const parts = [];
  for (const n of [1, 2, 3]) {
    const r = await s3.send(
      new UploadPartCommand({ Bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: n, Body: blob.subarray(0, PART) }),
    );
    parts.push({ PartNumber: n, ETag: r.ETag });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: parts } }),
  );

  // Each habit: requests it sends per round, and the round (on object `k`).
  const habits: [string, number, (k: string) => Promise<void>][] = [
    [
      'HEAD + GET If-Match (1 MiB)',
      2,
      async (k) => {
        const etag = (await s3.send(new HeadObjectCommand({ Bucket, Key: k }))).ETag;
        await get(k, { IfMatch: etag, Range: 'bytes=0-1048575' });
      },
    ],
    ['GET partNumber=2 (8 MiB)', 1, async () => void (await get('mp', { PartNumber: 2 }))],
    ['footer bytes=-65536', 1, async (k) => void (await get(k, { Range: 'bytes=-65536' }))],
    [
      'Parquet open (-8, footer, 2 x 4 MiB)',
      4,
      async (k) => {
        await get(k, { Range: 'bytes=-8' });
        await get(k, { Range: `bytes=${SIZE - 8 - 40000}-${SIZE - 9}` });
        for (const start of [5_000_000, 30_000_000]) await get(k, { Range: `bytes=${start}-${start + 4 * MiB - 1}` });
      },
    ],
    [
      '4 column chunks of one file at once (4 MiB)',
      4,
      async (k) => {
        await Promise.all(
          [3, 17, 29, 41].map((m) => get(k, { Range: `bytes=${m * MiB + 12345}-${(m + 4) * MiB + 12344}` })),
        );
      },
    ],
    [
      '8 MiB at any offset',
      1,
      async (k) => void (await get(k, { Range: `bytes=${13 * MiB + 777}-${21 * MiB + 776}` })),
    ],
    ['8 MiB on an 8 MiB grid', 1, async (k) => void (await get(k, { Range: `bytes=${16 * MiB}-${24 * MiB - 1}` }))],
    ['whole 64 MiB', 1, async (k) => void (await get(k))],
  ];
  const rows: string[][] = [];
  for (const [name, requests, round] of habits) {
    await round('o0'); // first round untimed and uncounted: caches as a reader that came before left them
    const before = storage.readStats();
    for (let r = 0; r < rounds; r++) await round(`o${r % 4}`);
    const after = storage.readStats();
    const n = rounds * requests;
    const per = (k: 'metadataReads' | 'shardReads' | 'readTasks' | 'shardBytes' | 'shared') =>
      (after[k] - before[k]) / n;
    rows.push([
      name,
      String(n),
      per('metadataReads').toFixed(2),
      per('shardReads').toFixed(2),
      per('readTasks').toFixed(2),
      (per('shardBytes') / 1024).toFixed(0),
      per('shared').toFixed(2),
    ]);
  }
  const head = ['habit (rounds over 4 objects)', 'requests', 'metadata reads/req', 'shard reads/req', 'read calls/req'];
  head.push('KiB read/req');
  console.log(table([[...head, 'batches shared/req'], ...rows]));
} finally {
  await server.close();
  await storage.close();
  await rm(base, { recursive: true, force: true });
}
