// `cairn server --workers 3`: what one worker acknowledged, every worker's next request sees. Clients are
// pinned to one worker each (test/helpers/workers.ts), so each step names the worker that serves it:
// overwrites of one key from all workers at once, listings after writes and deletes (with every worker's
// listing cache warm), versioned PUTs interleaved, a multipart upload spread over the workers, and bucket
// configuration (policy, versioning, the bucket itself) changed on one worker and obeyed by all at once;
// a signed aws-chunked upload with a forged chunk in the middle, refused by its worker, stores nothing anyone sees.
// Workers as processes and as threads (--worker-mode), one server each.
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3Error } from '../helpers/cairn.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { amzDate, authorization, signedChunkedBody, signV4 } from '../helpers/sigv4.js';
import {
  pinnedAgent,
  startWorkers,
  WORKERS_ALT,
  WORKERS_ROOT,
  type WorkersServer,
  WORKER_MODES,
} from '../helpers/workers.js';

const N = 3;
const MiB = 1024 * 1024;
let server: WorkersServer;
/** root[i] is served by worker i + 1; alt[i] likewise, as the second user. */
let root: S3Client[];
let alt: S3Client[];

const body = async (s3: S3Client, bucket: string, key: string, versionId?: string) => {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return { bytes: Buffer.from(await r.Body!.transformToByteArray()), meta: r.Metadata ?? {}, etag: r.ETag };
};

/** The keys a worker lists under `prefix` (every page), with their sizes. */
async function listed(s3: S3Client, prefix: string, delimiter?: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(
      new ListObjectsV2Command({ Bucket: 'shared', Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
    );
    for (const o of r.Contents ?? []) out.push(`${o.Key}:${o.Size}`);
    for (const p of r.CommonPrefixes ?? []) out.push(p.Prefix!);
    token = r.NextContinuationToken;
  } while (token);
  return out.sort();
}

/** What listing `dir/` with delimiter `/` shows for these `key:size` entries: objects and common prefixes. */
function byDirectory(entries: string[]): string[] {
  const out = entries.map((e) => (e.slice(4).includes('/') ? `dir/${e.slice(4).split('/')[0]}/` : e));
  return [...new Set(out)].sort();
}

describe.each(WORKER_MODES)('workers as %s', (mode) => {
  beforeAll(async () => {
    server = await startWorkers(N, { CAIRN_WORKER_MODE: mode });
    root = await Promise.all([1, 2, 3].map((w) => server.client(w)));
    alt = await Promise.all([1, 2, 3].map((w) => server.client(w, WORKERS_ALT)));
    await root[0].send(new CreateBucketCommand({ Bucket: 'shared' }));
  });
  afterAll(() => server?.close());

  describe('across workers', () => {
    it('concurrent overwrites of one key from every worker: each GET is one whole version; the last one wins', async () => {
      // Versions alternate between inline-sized and multi-block (data dirs replaced and reaped under readers).
      const size = (v: number) => (v % 2 === 0 ? 10_000 : 1.2 * MiB);
      const put = (w: number, v: number) =>
        root[w].send(
          new PutObjectCommand({ Bucket: 'shared', Key: 'hot', Body: pattern(size(v), v), Metadata: { v: String(v) } }),
        );
      await put(0, 0);
      let writing = true;
      const writers = [0, 1, 2].map(async (w) => {
        for (let i = 1; i <= 12; i++) await put(w, w * 100 + i);
      });
      let reads = 0;
      const readers = [0, 1, 2].map(async (w) => {
        while (writing || reads < 30) {
          const got = await body(root[w], 'shared', 'hot');
          const v = Number(got.meta.v);
          expect(mismatch(got.bytes, pattern(size(v), v), 0, v), `worker ${w + 1} read version ${v}`).toBeNull();
          reads++;
        }
      });
      await Promise.all(writers);
      writing = false;
      await Promise.all(readers);
      // Settled: every worker reads the same version; one version only (unversioned bucket).
      const finals = await Promise.all(root.map((s3) => body(s3, 'shared', 'hot')));
      expect(new Set(finals.map((f) => f.meta.v)).size).toBe(1);
      const versions = await root[1].send(new ListObjectVersionsCommand({ Bucket: 'shared', Prefix: 'hot' }));
      expect(versions.Versions?.map((x) => x.VersionId)).toEqual(['null']);
      // In sequence, each worker's write is what every worker reads next.
      for (let v = 1000; v < 1006; v++) {
        await put(v % N, v);
        for (const s3 of root) expect((await body(s3, 'shared', 'hot')).meta.v).toBe(String(v));
      }
    });

    it('a write or delete on one worker is in the next listing of every worker (their listing caches warm)', async () => {
      await root[0].send(new PutObjectCommand({ Bucket: 'shared', Key: 'dir/seed', Body: 'x' }));
      // Every worker lists first: each now holds cached views of these directories.
      for (const s3 of root) expect(await listed(s3, 'dir/')).toEqual(['dir/seed:1']);
      const keys = ['dir/seed:1'];
      for (let i = 0; i < 9; i++) {
        const key = i % 3 === 2 ? `dir/sub${i}/k` : `dir/k${i}`;
        await root[i % N].send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: 'y'.repeat(i + 1) }));
        keys.push(`${key}:${i + 1}`);
        keys.sort();
        for (const [w, s3] of root.entries()) expect(await listed(s3, 'dir/'), `worker ${w + 1}`).toEqual(keys);
        for (const s3 of root) expect(await listed(s3, 'dir/', '/')).toEqual(byDirectory(keys));
      }
      // Overwrite with another size: the new size everywhere.
      await root[2].send(new PutObjectCommand({ Bucket: 'shared', Key: 'dir/k0', Body: 'zzzzzzz' }));
      for (const s3 of root) expect(await listed(s3, 'dir/k0')).toEqual(['dir/k0:7']);
      // Deletes, each on another worker than the one that listed last.
      for (const [i, entry] of [...keys].entries()) {
        const key = entry.split(':')[0];
        await root[(i + 1) % N].send(new DeleteObjectCommand({ Bucket: 'shared', Key: key }));
        keys.splice(keys.indexOf(entry), 1);
        for (const [w, s3] of root.entries())
          expect(
            (await listed(s3, 'dir/')).map((k) => k.split(':')[0]),
            `worker ${w + 1}`,
          ).toEqual(keys.map((k) => k.split(':')[0]));
      }
    });

    it('versioned PUTs interleaved across workers: no version is lost', async () => {
      await root[0].send(new CreateBucketCommand({ Bucket: 'versions' }));
      await root[1].send(
        new PutBucketVersioningCommand({ Bucket: 'versions', VersioningConfiguration: { Status: 'Enabled' } }),
      );
      const written: { id: string; seed: number }[] = [];
      await Promise.all(
        [0, 1, 2].map(async (w) => {
          for (let i = 0; i < 15; i++) {
            const seed = w * 100 + i;
            const r = await root[w].send(
              new PutObjectCommand({ Bucket: 'versions', Key: 'v', Body: pattern(3000 + seed, seed) }),
            );
            written.push({ id: r.VersionId!, seed });
          }
        }),
      );
      expect(written.every((x) => x.id && x.id !== 'null')).toBe(true);
      for (const s3 of root) {
        const r = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versions' }));
        expect(new Set(r.Versions!.map((x) => x.VersionId))).toEqual(new Set(written.map((x) => x.id)));
        expect(r.Versions!.filter((x) => x.IsLatest)).toHaveLength(1);
      }
      for (const [i, x] of written.entries()) {
        const got = await body(root[i % N], 'versions', 'v', x.id);
        expect(mismatch(got.bytes, pattern(3000 + x.seed, x.seed), 0, x.seed)).toBeNull();
      }
    });

    it('a multipart upload: created on one worker, parts uploaded to the others, completed on a third', async () => {
      const parts = [pattern(5 * MiB, 1), pattern(5 * MiB, 2), pattern(1234, 3)];
      const up = await root[0].send(new CreateMultipartUploadCommand({ Bucket: 'shared', Key: 'mp' }));
      const etags: string[] = [];
      for (const [i, p] of parts.entries()) {
        const r = await root[(i + 1) % N].send(
          new UploadPartCommand({ Bucket: 'shared', Key: 'mp', UploadId: up.UploadId, PartNumber: i + 1, Body: p }),
        );
        etags.push(r.ETag!);
      }
      const listedParts = await root[0].send(
        new ListPartsCommand({ Bucket: 'shared', Key: 'mp', UploadId: up.UploadId }),
      );
      expect(listedParts.Parts?.map((p) => p.ETag)).toEqual(etags);
      await root[2].send(
        new CompleteMultipartUploadCommand({
          Bucket: 'shared',
          Key: 'mp',
          UploadId: up.UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      const whole = Buffer.concat(parts);
      for (const s3 of root) expect(mismatch((await body(s3, 'shared', 'mp')).bytes, whole)).toBeNull();
    });

    it('bucket configuration changed on one worker is obeyed by every worker in request order', async () => {
      await root[0].send(new PutObjectCommand({ Bucket: 'shared', Key: 'guarded', Body: 'secret' }));
      const allowAlt = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: [WORKERS_ALT.accessKey] },
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::shared/guarded',
          },
        ],
      });
      for (let round = 0; round < 6; round++) {
        await root[round % N].send(new PutBucketPolicyCommand({ Bucket: 'shared', Policy: allowAlt }));
        for (const s3 of alt) expect((await body(s3, 'shared', 'guarded')).bytes.toString()).toBe('secret');
        await root[(round + 1) % N].send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
        for (const s3 of alt) expect((await s3Error(body(s3, 'shared', 'guarded'))).name).toBe('AccessDenied');
      }
      // Versioning switched on by one worker: the next PUT on another gets a version id.
      await root[0].send(new CreateBucketCommand({ Bucket: 'switch' }));
      const first = await root[1].send(new PutObjectCommand({ Bucket: 'switch', Key: 'k', Body: 'a' }));
      expect(first.VersionId).toBeUndefined();
      await root[2].send(
        new PutBucketVersioningCommand({ Bucket: 'switch', VersioningConfiguration: { Status: 'Enabled' } }),
      );
      const second = await root[0].send(new PutObjectCommand({ Bucket: 'switch', Key: 'k', Body: 'b' }));
      expect(second.VersionId).toMatch(/^[0-9a-f-]{36}$/);
      // The bucket itself: created on one worker, there for all; deleted on one, gone for all.
      await root[2].send(new CreateBucketCommand({ Bucket: 'fleeting' }));
      for (const s3 of root) await s3.send(new HeadBucketCommand({ Bucket: 'fleeting' }));
      expect((await s3Error(alt[1].send(new CreateBucketCommand({ Bucket: 'fleeting' })))).name).toBe(
        'BucketAlreadyExists',
      );
      await root[0].send(new DeleteBucketCommand({ Bucket: 'fleeting' }));
      for (const s3 of root)
        expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'fleeting' })))).status).toBe(404);
    });

    it('a signed streaming upload with a forged chunk in the middle fails on its worker and stores nothing', async () => {
      // 48 chunks of 64 KiB, as minio-go and warp send PUT bodies on plain HTTP; chunk 24 changed after signing.
      const chunks = Array.from({ length: 48 }, (_, i) => pattern(65536, 100 + i));
      const forge = (i: number, c: Buffer) =>
        i === 24 ? Buffer.concat([c.subarray(0, 7), Buffer.from('!'), c.subarray(8)]) : c;
      await root[0].send(new PutObjectCommand({ Bucket: 'shared', Key: 'streamed', Body: 'before' }));
      for (const slot of [1, 2, 3]) {
        const refused = await chunkedPut(slot, 'streamed', chunks, forge);
        expect([refused.status, /<Code>([^<]+)</.exec(refused.text)?.[1]]).toEqual([403, 'SignatureDoesNotMatch']);
        const fresh = await chunkedPut(slot, `streamed-new-${slot}`, chunks, forge);
        expect(fresh.status).toBe(403);
      }
      for (const s3 of root) {
        expect((await body(s3, 'shared', 'streamed')).bytes.toString()).toBe('before');
        expect(await listed(s3, 'streamed')).toEqual(['streamed:6']);
      }
      // Nor is anything of the refused bodies left in any worker's temp area.
      for (const d of server.drives)
        for (const slot of [1, 2, 3]) expect(await readdir(join(d, `.cairn.sys/tmp/w${slot}`))).toEqual([]);
      // The same body unforged is stored and read back whole by every worker: the refusal was the forgery's.
      expect((await chunkedPut(2, 'streamed', chunks)).status).toBe(200);
      for (const s3 of root)
        expect(mismatch((await body(s3, 'shared', 'streamed')).bytes, Buffer.concat(chunks))).toBeNull();
    });
  });

  /** A PUT with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body of `chunks` on a connection worker `slot` serves. */
  async function chunkedPut(slot: number, key: string, chunks: Buffer[], tamper?: (i: number, c: Buffer) => Buffer) {
    const url = new URL(server.url);
    const time = new Date();
    const payloadHash = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
    const headers: Record<string, string> = {
      host: url.host,
      'x-amz-date': amzDate(time),
      'x-amz-content-sha256': payloadHash,
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(Buffer.concat(chunks).length),
    };
    const path = `/shared/${key}`;
    const s = signV4({ method: 'PUT', path, headers, payloadHash, time, credentials: WORKERS_ROOT });
    const framed = signedChunkedBody(s, time, chunks, undefined, tamper);
    const agent = await pinnedAgent(server.url, slot);
    try {
      return await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const headersSent = { ...headers, authorization: authorization(s), 'content-length': String(framed.length) };
        const req = request(server.url + path, { method: 'PUT', agent, headers: headersSent }, (res) => {
          if (res.headers['x-cairn-worker'] !== String(slot)) reject(new Error(`not answered by worker ${slot}`));
          let text = '';
          res.on('data', (d) => (text += d));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.once('error', reject);
        req.end(framed);
      });
    } finally {
      agent.destroy();
    }
  }
});
