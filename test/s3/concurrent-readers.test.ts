// Many readers of one big object at once (whole, ranged, clients that hang up midway, and readers of a
// second object in between), and a reader that stops reading: the server serves every body byte-exact,
// stays healthy, closes every shard file it opened, and does not buffer an object for a client that does
// not read it. The server runs in this process (startTestServer), so its open files are /proc/self/fd
// entries under the temporary drives and its buffers show in process.memoryUsage().arrayBuffers.
import { readdir, readlink, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startWithBucket, type TestServer } from '../helpers/cairn.js';
import { pattern, pausedGet, sha256, streamedGet, type GetOptions, type StreamedGet } from '../helpers/object-bytes.js';

const MiB = 1024 * 1024;
let server: TestServer;
let s3: S3Client;
const bucket = 'readers';

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket, {
    storage: { background: false },
    client: { checksums: 'WHEN_REQUIRED' },
  }));
});
afterAll(() => server?.close());

/** Files under the test drives that this process has open (shard files, metadata being read). */
async function openDriveFiles(): Promise<string[]> {
  const base = dirname(server.drives[0]);
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(`${base}/`));
}

/** Waits (polling, up to `ms`) until `check` holds; returns its last answer. */
async function eventually<T>(f: () => Promise<T>, check: (t: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const t = await f();
    if (check(t) || Date.now() > until) return t;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What one GET must return: the bytes [start, end] of the object (whole when no range). */
interface Expect {
  opts: GetOptions;
  range?: [number, number];
  /** Which of the objects read (default 0). */
  of?: number;
}

function problems(got: StreamedGet, e: Expect, obj: Buffer, etag: string): string[] {
  const [start, end] = e.range ?? [0, obj.length - 1];
  const out: (string | false)[] = [
    got.status !== (e.range ? 206 : 200) && `status ${got.status}`,
    got.headers.etag !== etag && `ETag ${got.headers.etag}`,
    Number(got.headers['content-length']) !== end - start + 1 && `Content-Length ${got.headers['content-length']}`,
    !!e.range &&
      got.headers['content-range'] !== `bytes ${start}-${end}/${obj.length}` &&
      `Content-Range ${got.headers['content-range']}`,
  ];
  if (got.aborted) out.push(got.bytes < e.opts.abortAfter! && `hung up after ${got.bytes} bytes`);
  else
    out.push(
      got.bytes !== end - start + 1 && `${got.bytes} body bytes`,
      got.sha256 !== sha256(obj.subarray(start, end + 1)) && 'body differs',
    );
  return out.filter((p): p is string => !!p);
}

describe('many concurrent readers of one object', () => {
  const size = 24 * MiB + 123;
  const obj = pattern(size, 11);
  // A second object read at the same time: a read buffer reused while still in use shows as its bytes.
  const other = pattern(8 * MiB + 7, 13);

  it('64 concurrent GETs (whole, ranged, some hanging up midway) all get their bytes; no file stays open', async () => {
    const objs = [obj, other];
    const etags = await Promise.all(
      ['big', 'other'].map(
        async (Key, i) => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: objs[i] }))).ETag!,
      ),
    );
    const before = await openDriveFiles();
    const gets: Expect[] = [];
    for (let i = 0; i < 16; i++) gets.push({ opts: {}, of: i % 4 === 3 ? 1 : 0 });
    for (let i = 0; i < 24; i++) {
      // 8 MiB ranged readers at unaligned offsets, as Spark or a PyTorch loader issue them.
      const start = Math.min(i * (MiB + 4099), size - 8 * MiB);
      gets.push({
        opts: { headers: { range: `bytes=${start}-${start + 8 * MiB - 1}` } },
        range: [start, start + 8 * MiB - 1],
      });
    }
    // Parquet-style footer and column-chunk reads.
    gets.push({ opts: { headers: { range: 'bytes=-8' } }, range: [size - 8, size - 1] });
    gets.push({ opts: { headers: { range: 'bytes=-65536' } }, range: [size - 65536, size - 1] });
    for (let i = 0; i < 6; i++) {
      const start = 3 * MiB * i + 777;
      gets.push({ opts: { headers: { range: `bytes=${start}-${start + 300_000}` } }, range: [start, start + 300_000] });
    }
    // Clients that hang up part way through, whole and ranged.
    for (let i = 0; i < 12; i++) gets.push({ opts: { abortAfter: (1 + (i % 6)) * MiB }, of: i % 2 });
    for (let i = 0; i < 4; i++)
      gets.push({
        opts: { abortAfter: 64 * 1024, headers: { range: `bytes=${i * MiB}-` } },
        range: [i * MiB, size - 1],
      });
    expect(gets.length).toBe(64);

    const keys = ['big', 'other'];
    const results = await Promise.all(
      gets.map((g) => streamedGet(server.url, `/${bucket}/${keys[g.of ?? 0]}`, g.opts).catch((e: Error) => e)),
    );
    const failures = results.flatMap((r, i) => {
      const of = gets[i].of ?? 0;
      return r instanceof Error
        ? [`GET ${i}: ${r.message}`]
        : problems(r, gets[i], objs[of], etags[of]).map((p) => `GET ${i} of ${keys[of]}: ${p}`);
    });
    expect(failures).toEqual([]);
    expect(results.filter((r) => !(r instanceof Error) && r.aborted).length).toBe(16);

    // Still healthy and correct afterwards.
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    const after = await Promise.all(
      [{ opts: {} }, { opts: { headers: { range: 'bytes=5-' } }, range: [5, size - 1] as [number, number] }].map(
        async (g) => problems(await streamedGet(server.url, `/${bucket}/big`, g.opts), g, obj, etags[0]),
      ),
    );
    expect(after.flat()).toEqual([]);
    // Every shard file opened by those reads, hung-up ones included, is closed again (closes are deferred
    // until reads in flight are done, hence the wait).
    const left = await eventually(openDriveFiles, (f) => f.length <= before.length);
    expect(left).toEqual(before);
  });
});

describe('many concurrent readers of objects missing shards', () => {
  it('32 GETs of two objects whose blocks are rebuilt from parity all get their bytes', async () => {
    // 2+2: one object loses the shard files of drives 1-2, the other of drives 3-4, so at least one of
    // them is missing a data shard whatever the placement, and is decoded block by block.
    const objs = [pattern(8 * MiB + 7, 21), pattern(6 * MiB + 3, 22)];
    const keys = ['deg-a', 'deg-b'];
    const etags: string[] = [];
    for (const [i, Key] of keys.entries()) {
      etags.push((await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: objs[i] }))).ETag!);
      for (const d of i === 0 ? server.drives.slice(0, 2) : server.drives.slice(2)) {
        const dir = join(d, bucket, `${Key}.o`);
        for (const e of await readdir(dir)) if (e !== 'meta') await rm(join(dir, e), { recursive: true });
      }
    }
    const before = await openDriveFiles();
    const gets: Expect[] = [];
    for (let i = 0; i < 32; i++) {
      const of = i % 2;
      const size = objs[of].length;
      if (i < 12) gets.push({ opts: {}, of });
      else if (i < 28) {
        const start = ((i * 1_234_567) % (size - 2 * MiB)) + 1;
        gets.push({
          opts: { headers: { range: `bytes=${start}-${start + MiB + 1}` } },
          range: [start, start + MiB + 1],
          of,
        });
      } else gets.push({ opts: { abortAfter: MiB }, of });
    }
    const results = await Promise.all(
      gets.map((g) => streamedGet(server.url, `/${bucket}/${keys[g.of!]}`, g.opts).catch((e: Error) => e)),
    );
    const failures = results.flatMap((r, i) => {
      const of = gets[i].of!;
      return r instanceof Error
        ? [`GET ${i}: ${r.message}`]
        : problems(r, gets[i], objs[of], etags[of]).map((p) => `GET ${i} of ${keys[of]}: ${p}`);
    });
    expect(failures).toEqual([]);
    expect(await eventually(openDriveFiles, (f) => f.length <= before.length)).toEqual(before);
  });
});

describe('a reader that stops reading', () => {
  it('does not make the server buffer the object; the body is whole when it reads on', async () => {
    // Buffers held for a paused client show in arrayBuffers once garbage is collected.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const held = () => {
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const size = 64 * MiB + 5;
    const obj = pattern(size, 12);
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow', Body: obj }));
    // One whole read first: buffers a server keeps for reuse are then in the baseline, not in the growth.
    expect((await streamedGet(server.url, `/${bucket}/slow`)).sha256).toBe(sha256(obj));
    const baseline = held();
    const { paused, result: get } = pausedGet(server.url, `/${bucket}/slow`);
    const res = await paused;
    // Time for a server that ignores backpressure to read everything (it would take well under a
    // second); the highest figure seen counts. Meanwhile the server answers others.
    let peak = 0;
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 200));
      peak = Math.max(peak, held() - baseline);
    }
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'slow' }))).ContentLength).toBe(size);
    res.resume();
    const got = await get;
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe(ETag);
    expect(got.bytes).toBe(size);
    expect(got.sha256).toBe(sha256(obj));
    // Generous: read-ahead takes a few MiB; a server that kept reading would hold most of the 64 MiB
    // (socket buffers take only a few MiB of it, and those are the kernel's).
    expect(peak, `buffers grew by ${(peak / MiB).toFixed(1)} MiB while the client was paused`).toBeLessThan(32 * MiB);
  });

  it('a client that hangs up while paused: its GET closes its shard files, the object reads fine after', async () => {
    const obj = pattern(24 * MiB + 1, 14);
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hangup', Body: obj }));
    const before = await openDriveFiles();
    const { paused, result: get } = pausedGet(server.url, `/${bucket}/hangup`);
    const res = await paused;
    await new Promise((r) => setTimeout(r, 300)); // the server is now waiting for the socket to drain
    res.destroy(); // ... which never comes: the client is gone
    await expect(get).rejects.toThrow();
    expect(await eventually(openDriveFiles, (f) => f.length <= before.length)).toEqual(before);
    const again = await streamedGet(server.url, `/${bucket}/hangup`);
    expect([again.status, again.headers.etag, again.bytes, again.sha256]).toEqual([200, ETag, obj.length, sha256(obj)]);
  });

  it('a reader that trickles (pausing after every chunk) gets the whole body', async () => {
    const obj = pattern(12 * MiB + 9, 15);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'trickle', Body: obj }));
    let pauses = 0;
    const got = await streamedGet(server.url, `/${bucket}/trickle`, {
      onResponse: (r) =>
        r.on('data', () => {
          if (pauses++ % 4) return;
          r.pause();
          setTimeout(() => r.resume(), 5);
        }),
    });
    expect([got.status, got.bytes, got.sha256]).toEqual([200, obj.length, sha256(obj)]);
    expect(pauses).toBeGreaterThan(10);
  });
});
