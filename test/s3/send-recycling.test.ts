// GET bodies written by hand (send-body.ts) with small blocks and a small buffer pool, so read buffers go
// round the pool many times per response: many concurrent responses (whole, ranged, trickling, paused,
// hanging up) each get exactly their bytes, and the server keeps serving right after clients hang up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startWithBucket, type TestServer } from '../helpers/cairn.js';
import { pattern, sha256, streamedGet } from '../helpers/object-bytes.js';

const KiB = 1024;
const SIZES = [3 * 1024 * KiB + 5, 2 * 1024 * KiB, 1024 * KiB + 333, 700 * KiB];
let server: TestServer;
let s3: S3Client;
const objs: Buffer[] = [];

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket('rec', {
    storage: {
      background: false,
      blockSize: 16 * KiB,
      inlineLimit: 0,
      readBatchBlocks: 4,
      readAheadBatches: 1,
      poolBytes: 512 * KiB,
    },
    client: { checksums: 'WHEN_REQUIRED' },
  }));
  for (const [i, size] of SIZES.entries()) {
    objs.push(pattern(size, 40 + i));
    await s3.send(new PutObjectCommand({ Bucket: 'rec', Key: `o${i}`, Body: objs[i] }));
  }
});
afterAll(() => server?.close());

describe('GET bodies sent with pooled, recycled buffers', () => {
  it('24 concurrent GETs (whole, ranged, trickling, paused) each get exactly their bytes', async () => {
    const jobs = Array.from({ length: 24 }, async (_, n) => {
      const i = n % SIZES.length;
      const obj = objs[i];
      const ranged = n % 3 === 1;
      const start = ranged ? 16 * KiB * 4 - 9 + n : 0; // from inside the first batch
      const end = ranged ? obj.length - 1 - n * 101 : obj.length - 1;
      let chunks = 0;
      const got = await streamedGet(server.url, `/rec/o${i}`, {
        headers: ranged ? { range: `bytes=${start}-${end}` } : {},
        onResponse: (r) => {
          if (n % 4 === 2) {
            // trickle: a short pause every few chunks
            r.on('data', () => {
              if (chunks++ % 8) return;
              r.pause();
              setTimeout(() => r.resume(), 2);
            });
          } else if (n % 4 === 3) {
            // one long pause after the first chunk: the server waits for 'drain'
            r.once('data', () => {
              r.pause();
              setTimeout(() => r.resume(), 150);
            });
          }
        },
      });
      const want = obj.subarray(start, end + 1);
      expect([n, got.status, got.bytes, got.sha256]).toEqual([n, ranged ? 206 : 200, want.length, sha256(want)]);
    });
    await Promise.all(jobs);
  });

  it('clients hanging up midway (some while paused) leave the others and later GETs right', async () => {
    const jobs = Array.from({ length: 16 }, async (_, n) => {
      const i = n % SIZES.length;
      const obj = objs[i];
      if (n % 2 === 0) {
        const got = await streamedGet(server.url, `/rec/o${i}`, {
          abortAfter: 50 * KiB + n * 7 * KiB,
          onResponse:
            n % 4 === 0 ? (r) => r.once('data', () => (r.pause(), setTimeout(() => r.resume(), 100))) : undefined,
        });
        expect(got.aborted).toBe(true);
        return;
      }
      const got = await streamedGet(server.url, `/rec/o${i}`);
      expect([n, got.status, got.bytes, got.sha256]).toEqual([n, 200, obj.length, sha256(obj)]);
    });
    await Promise.all(jobs);
    // and afterwards, every object whole, twice over (reusing whatever the hung-up reads left behind)
    for (let round = 0; round < 2; round++) {
      const after = await Promise.all(objs.map((_, i) => streamedGet(server.url, `/rec/o${i}`)));
      after.forEach((got, i) =>
        expect([i, got.status, got.bytes, got.sha256]).toEqual([i, 200, objs[i].length, sha256(objs[i])]),
      );
    }
  });

  it('sends the headers of the reply (length, range, etag) on the hand-written path', async () => {
    const got = await streamedGet(server.url, '/rec/o1', { headers: { range: 'bytes=100-65635' } });
    expect(got.status).toBe(206);
    expect(got.headers['content-length']).toBe('65536');
    expect(got.headers['content-range']).toBe(`bytes 100-65635/${SIZES[1]}`);
    expect(got.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(got.sha256).toBe(sha256(objs[1].subarray(100, 65636)));
  });
});
