// The S3 gateway's GET path: a whole-object GET is one backend GET (its answer's headers are the metadata,
// tags asked for only when the answer counts some), a GET refused by a condition lets go of the backend
// answer it began, and bodies read into reused buffers (http1.ts) stay right over many kept connections; a
// large body is read from the backend no faster than the client takes it, and a backend answer cut mid-body
// cuts the client's.
// The gateway talks to its backend through a TCP proxy here that records the request lines it sees.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error, type TestServer } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';

/**
 * A TCP proxy to `port`: the request lines sent through it, the bytes its upstream sent back, its connections
 * still open, and a cut of them all (the backend failing mid-answer).
 */
async function recordingProxy(port: number) {
  const lines: string[] = [];
  const open = new Set<Socket>();
  let received = 0;
  const server: Server = createServer((client) => {
    open.add(client);
    const upstream = createConnection({ host: '127.0.0.1', port });
    upstream.on('data', (c: Buffer) => {
      received += c.length;
    });
    let carry = '';
    client.on('data', (c: Buffer) => {
      // Requests are GET/HEAD/PUT heads and small bodies here; a line is a request line when it looks like one.
      carry += c.toString('latin1');
      const parts = carry.split('\r\n');
      carry = parts.pop() ?? '';
      for (const l of parts) if (/^(GET|HEAD|PUT|POST|DELETE) \S+ HTTP\/1\.1$/.test(l)) lines.push(l);
      if (carry.length > 8192) carry = carry.slice(-8192);
    });
    client.pipe(upstream).pipe(client);
    const close = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    lines,
    open: () => open.size,
    received: () => received,
    cut: () => {
      for (const s of open) s.destroy();
    },
    close: () => {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

let backend: TestServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let gw: S3Gateway;
let s3: S3Client;
let be: S3Client;
const rnd = seededRandom();
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const bytes = async (p: Promise<{ Body?: unknown }>) =>
  Buffer.from(await ((await p).Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());

/** Polls `check` until it holds (a loaded machine may take its time), failing after `ms`. */
async function eventually(check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  backend = await startBackend();
  be = backendClient(backend);
  proxy = await recordingProxy(Number(new URL(backend.url).port));
  gw = await startS3Gateway(proxy.url);
  s3 = gw.client();
  // Made through the gateway, which then keeps its configuration: no HeadBucket to learn it exists.
  await s3.send(new CreateBucketCommand({ Bucket: 'data' }));
});
afterAll(async () => {
  await gw?.close();
  proxy?.close();
  await backend?.close();
});

describe('a whole-object GET through the gateway', () => {
  it('is one backend GET: metadata, content headers, checksum and ETag come from its answer', async () => {
    const body = rnd.bytes(300_000);
    const put = await be.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: 'one/request',
        Body: body,
        ContentType: 'application/x-test',
        CacheControl: 'max-age=60',
        Metadata: { colour: 'blue', 'two-words': 'a b' },
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    const before = proxy.lines.length;
    const out = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'one/request', ChecksumMode: 'ENABLED' }));
    const got = Buffer.from(await out.Body!.transformToByteArray());
    expect(md5(got)).toBe(md5(body));
    expect(out).toMatchObject({
      ETag: put.ETag,
      ContentLength: body.length,
      ContentType: 'application/x-test',
      CacheControl: 'max-age=60',
      Metadata: { colour: 'blue', 'two-words': 'a b' },
      ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
    });
    expect(out.TagCount).toBeUndefined();
    expect(proxy.lines.slice(before)).toEqual(['GET /data/one/request HTTP/1.1']);
  });

  it('asks for the tags only when the answer counts some', async () => {
    await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'tagged', Body: 'x'.repeat(1000), Tagging: 'a=1&b=2' }));
    const before = proxy.lines.length;
    const out = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'tagged' }));
    expect(await out.Body!.transformToString()).toBe('x'.repeat(1000));
    expect(out.TagCount).toBe(2);
    expect(proxy.lines.slice(before)).toEqual(['GET /data/tagged HTTP/1.1', 'GET /data/tagged?tagging= HTTP/1.1']);
  });

  it('answers NoSuchKey and NoSuchBucket from the backend’s error documents', async () => {
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'absent' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'k' })))).toEqual({
      name: 'NoSuchBucket',
      status: 404,
    });
    // The connection that carried the errors serves the next GET.
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'tagged' }))).Body!.transformToString(),
    ).toBe('x'.repeat(1000));
  });

  it('refused by a condition (304, 412), lets go of the backend answer it began', async () => {
    const body = rnd.bytes(4 * 1024 * 1024); // more than the sockets buffer: an answer nobody reads stays open
    const { ETag } = await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'big', Body: body }));
    const kept = proxy.open();
    for (let i = 0; i < 6; i++) {
      expect(
        await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'big', IfNoneMatch: ETag }))),
      ).toMatchObject({ status: 304 });
      expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'big', IfMatch: '"0123"' })))).toEqual({
        name: 'PreconditionFailed',
        status: 412,
      });
    }
    // Each refused GET's backend connection is closed (its body was never read): none is left hanging.
    await eventually(() => proxy.open() <= kept + 1);
    expect(md5(await bytes(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'big' }))))).toBe(md5(body));
  });

  it('reads the right bytes over kept connections, in parallel, ranged and after a client went away', async () => {
    const objects = [1, 2, 3].map((i) => rnd.bytes(i * 700_001));
    for (const [i, b] of objects.entries())
      await be.send(new PutObjectCommand({ Bucket: 'data', Key: `many/${i}`, Body: b }));
    const want = objects.map(md5);
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let n = 0; n < 8; n++) {
          const i = (lane + n) % 3;
          expect(md5(await bytes(s3.send(new GetObjectCommand({ Bucket: 'data', Key: `many/${i}` }))))).toBe(want[i]);
        }
      }),
    );
    const ranged = await bytes(
      s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'many/2', Range: 'bytes=100-200099' })),
    );
    expect(md5(ranged)).toBe(md5(objects[2].subarray(100, 200100)));
    // A client that reads a little and goes away: the gateway's backend answer is cut, nothing else breaks.
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'data', Key: 'many/2' }));
    await new Promise<void>((resolve, reject) => {
      const req = request(url, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => (req.destroyed ? resolve() : reject(e)));
      req.end();
    });
    for (const i of [2, 0, 1])
      expect(md5(await bytes(s3.send(new GetObjectCommand({ Bucket: 'data', Key: `many/${i}` }))))).toBe(want[i]);
  });
});

describe('a large GET through the gateway', () => {
  it('reads no further ahead than the client takes; a backend answer cut mid-body cuts the client’s', async () => {
    // Larger than all the kernel's socket buffers on the way could hold: the client's and the gateway's receive
    // buffers (autotuned up to tcp_rmem's maximum, 32 MiB here), the gateway's and the proxy's send buffers, and
    // 8 MiB more (the gateway's own 1 MiB ahead and the proxy's). Read ahead without bound, the gateway reads it all.
    const MiB = 1024 * 1024;
    const max = (name: string, fallback: number) =>
      Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]) || fallback;
    const SIZE = Math.ceil((2 * max('tcp_rmem', 6 * MiB) + 2 * max('tcp_wmem', 4 * MiB)) / MiB + 8) * MiB;
    const piece = rnd.bytes(MiB);
    const object = Buffer.concat(Array.from({ length: SIZE / MiB }, () => piece));
    for (let i = 0; i < SIZE; i += 4096) object.writeUInt32LE(i, i); // each 4 KiB its own
    await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'large', Body: object }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'data', Key: 'large' }));
    const before = proxy.received();
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      request(url, resolve).on('error', reject).end(),
    );
    expect(res.statusCode).toBe(200);
    res.pause();
    // The client reads nothing: what the gateway read from the backend stops growing well short of the object.
    let last = -1;
    let still = 0;
    await eventually(() => {
      const now = proxy.received() - before;
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 10 || now >= SIZE; // unchanged for 10 polls (~0.5 s), or all of it read
    });
    expect(last).toBeLessThan(SIZE);
    // The backend's answer cut now: the client gets what was sent, then a connection cut short of its length.
    proxy.cut();
    const got = await new Promise<{ n: number; complete: boolean }>((resolve) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
      });
      res.on('error', () => undefined);
      res.once('close', () => resolve({ n, complete: res.complete }));
      res.resume();
    });
    expect(got.complete).toBe(false);
    expect(got.n).toBeLessThan(SIZE);
    // Nothing else broke: the object reads right afterwards (its last 3 MiB and a bit: the GET is not the test).
    const tail = await bytes(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'large', Range: 'bytes=-3000000' })));
    expect(md5(tail)).toBe(md5(object.subarray(SIZE - 3_000_000)));
  });
});

describe('a HEAD and a ranged GET through the gateway', () => {
  it('a HEAD is one backend HEAD; the tags are asked for only when its answer counts some', async () => {
    const body = rnd.bytes(5000);
    const put = await be.send(
      new PutObjectCommand({ Bucket: 'data', Key: 'head/plain', Body: body, Metadata: { m: 'v' }, ContentType: 'a/b' }),
    );
    let before = proxy.lines.length;
    const out = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'head/plain' }));
    expect(out).toMatchObject({ ETag: put.ETag, ContentLength: 5000, ContentType: 'a/b', Metadata: { m: 'v' } });
    expect(proxy.lines.slice(before)).toEqual(['HEAD /data/head/plain HTTP/1.1']);

    await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'head/tagged', Body: 'abc', Tagging: 'k=1' }));
    before = proxy.lines.length;
    // The tag count is in the answer's headers (the SDK's HeadObject output has no field for it).
    const url = await getSignedUrl(s3, new HeadObjectCommand({ Bucket: 'data', Key: 'head/tagged' }));
    const res = await fetch(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-tagging-count')).toBe('1');
    expect(proxy.lines.slice(before)).toEqual([
      'HEAD /data/head/tagged HTTP/1.1',
      'GET /data/head/tagged?tagging= HTTP/1.1',
    ]);
  });

  it('a ranged GET is one backend GET with the Range: size and ETag from its Content-Range', async () => {
    const body = rnd.bytes(1_000_000);
    const put = await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'ranged', Body: body }));
    for (const [range, start, end] of [
      ['bytes=100-200099', 100, 200099],
      ['bytes=999000-', 999000, 999999],
      ['bytes=-5000', 995000, 999999],
      ['bytes=990000-2000000', 990000, 999999],
    ] as const) {
      const before = proxy.lines.length;
      const out = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'ranged', Range: range }));
      const got = Buffer.from(await out.Body!.transformToByteArray());
      expect(md5(got)).toBe(md5(body.subarray(start, end + 1)));
      expect(out).toMatchObject({
        ETag: put.ETag,
        ContentRange: `bytes ${start}-${end}/1000000`,
        ContentLength: end - start + 1,
      });
      expect(proxy.lines.slice(before)).toEqual(['GET /data/ranged HTTP/1.1']);
    }
  });

  it('a range past the end is InvalidRange; a range refused by a condition lets go of its answer', async () => {
    const body = rnd.bytes(4 * 1024 * 1024);
    const { ETag } = await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'ranged-big', Body: body }));
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'ranged-big', Range: 'bytes=5000000-' }))),
    ).toEqual({ name: 'InvalidRange', status: 416 });
    const kept = proxy.open();
    for (let i = 0; i < 6; i++) {
      const range = 'bytes=0-4000000';
      expect(
        await s3Error(
          s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'ranged-big', Range: range, IfNoneMatch: ETag })),
        ),
      ).toMatchObject({ status: 304 });
      expect(
        await s3Error(
          s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'ranged-big', Range: range, IfMatch: '"0"' })),
        ),
      ).toEqual({ name: 'PreconditionFailed', status: 412 });
    }
    await eventually(() => proxy.open() <= kept + 1);
    const out = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'ranged-big', Range: 'bytes=10-19' }));
    expect(Buffer.from(await out.Body!.transformToByteArray())).toEqual(body.subarray(10, 20));
  });
});
