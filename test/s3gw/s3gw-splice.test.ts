// The S3 gateway's GET bodies moved from the backend's socket to the client's inside the kernel (splice(2) on a
// thread named cairn-splice: @cairn/native spliceSockets, http1.ts, http/send-body.ts). The gateway runs in
// this process, so its splice threads show in /proc/self/task while a client holds a transfer up by not reading.
// The tests' clients are on this host: the default (CAIRN_GATEWAY_SPLICE=auto) sends them the bytes through node,
// `on` splices to them as well (what auto does for a client on another host), `off` never splices.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';
import { onThisHost } from '../../server/src/http/send-body.js';
import type { SpliceMode } from '../../server/src/storage/object-layer.js';
import { Http1Client } from '../../server/src/storage/s3gw/http1.js';

let backend: TestServer;
let gw: S3Gateway;
let plain: S3Gateway;
let auto: S3Gateway;
let be: S3Client;
const rnd = seededRandom();
const md5 = (b: Buffer | Uint8Array) => createHash('md5').update(b).digest('hex');
/** 12 MiB and a few bytes: more than a fresh connection's socket buffers on both sides hold. */
const big = rnd.bytes(12 * 1024 * 1024 + 12_345);

/** Threads of this process now in a splice. */
function spliceThreads(): number {
  let n = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'cairn-splice') n++;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return n;
}

/** Polls `check` until it holds (a loaded machine may take its time), failing after `ms`. */
async function eventually(check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A presigned GET on a connection of its own (a kept one's receive buffer may have grown to hold the whole
 * body) whose answer is paused after its first bytes: the transfer waits on this client.
 */
async function pausedGet(g: S3Gateway, key: string, range?: string) {
  const url = await getSignedUrl(g.client(), new GetObjectCommand({ Bucket: 'data', Key: key, Range: range }));
  const chunks: Buffer[] = [];
  let res!: IncomingMessage;
  const req = request(url, { agent: false, headers: range ? { range } : {} });
  await new Promise<void>((resolve, reject) => {
    req.on('response', (r) => {
      res = r;
      r.once('data', (c: Buffer) => {
        chunks.push(c);
        r.pause();
        resolve();
      });
    });
    req.on('error', reject);
    req.end();
  });
  return {
    res,
    /** Reads the rest: the whole body. */
    finish: () =>
      new Promise<Buffer>((resolve, reject) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
        res.resume();
      }),
    abort: () => req.destroy(),
  };
}

const getBody = async (s3: S3Client, key: string, range?: string) =>
  md5(
    await (
      await s3.send(new GetObjectCommand({ Bucket: 'data', Key: key, Range: range }))
    ).Body!.transformToByteArray(),
  );

beforeAll(async () => {
  backend = await startBackend();
  be = backendClient(backend);
  gw = await startS3Gateway(backend.url, { splice: 'on' });
  plain = await startS3Gateway(backend.url, { splice: 'off' });
  auto = await startS3Gateway(backend.url);
  await be.send(new CreateBucketCommand({ Bucket: 'data' }));
  await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'big', Body: big }));
  await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'small', Body: big.subarray(0, 300_000) }));
});
afterAll(async () => {
  await gw?.close();
  await plain?.close();
  await auto?.close();
  await backend?.close();
});

describe('a GET body spliced from the backend’s socket to the client’s', () => {
  it('moves in the kernel while the client reads, and arrives whole (whole object and a range)', async () => {
    const whole = await pausedGet(gw, 'big');
    await eventually(() => spliceThreads() === 1);
    expect(whole.res.headers['content-length']).toBe(String(big.length));
    expect(md5(await whole.finish())).toBe(md5(big));
    await eventually(() => spliceThreads() === 0);

    const range = await pausedGet(gw, 'big', 'bytes=1000-10000999');
    await eventually(() => spliceThreads() === 1);
    expect(range.res.statusCode).toBe(206);
    expect(md5(await range.finish())).toBe(md5(big.subarray(1000, 10_001_000)));
  });

  it('right bytes over kept connections in parallel, small bodies through node', async () => {
    const s3 = gw.client();
    const want = { big: md5(big), small: md5(big.subarray(0, 300_000)) };
    await Promise.all(
      [0, 1, 2].map(async (lane) => {
        for (let n = 0; n < 3; n++) {
          const key = (lane + n) % 2 ? 'small' : 'big';
          expect(await getBody(s3, key)).toBe(want[key]);
        }
      }),
    );
    expect(await getBody(s3, 'big', 'bytes=-2000000')).toBe(md5(big.subarray(big.length - 2_000_000)));
  });

  it('a client that goes away mid-body ends the splice; the next GETs are right', async () => {
    const gone = await pausedGet(gw, 'big');
    await eventually(() => spliceThreads() === 1);
    gone.abort();
    await eventually(() => spliceThreads() === 0);
    const s3 = gw.client();
    for (let i = 0; i < 3; i++) expect(await getBody(s3, 'big')).toBe(md5(big));
  });

  it('with splice off (CAIRN_GATEWAY_SPLICE=off) the body goes through node: no splice thread, same bytes', async () => {
    const held = await pausedGet(plain, 'big');
    await new Promise((r) => setTimeout(r, 500));
    expect(spliceThreads()).toBe(0);
    expect(md5(await held.finish())).toBe(md5(big));
  });

  it('by default (auto) a client on this host gets the body through node: no splice thread, same bytes', async () => {
    const held = await pausedGet(auto, 'big');
    await new Promise((r) => setTimeout(r, 500));
    expect(spliceThreads()).toBe(0);
    expect(md5(await held.finish())).toBe(md5(big));
    expect(await getBody(auto.client(), 'big', 'bytes=5-')).toBe(md5(big.subarray(5)));
  });
});

describe('which clients are on this host (onThisHost)', () => {
  it('loopback addresses and the socket’s own address are; any other address is not', () => {
    for (const [remoteAddress, localAddress] of [
      ['127.0.0.1', '127.0.0.1'],
      ['127.3.2.1', '127.0.0.1'],
      ['::1', '::1'],
      ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
      ['::FFFF:127.0.0.9', '::'],
      ['10.1.2.3', '10.1.2.3'],
      ['::ffff:10.1.2.3', '10.1.2.3'],
      ['fd00::5', 'fd00::5'],
      [undefined, '10.1.2.3'],
    ])
      expect(onThisHost({ remoteAddress, localAddress }), String(remoteAddress)).toBe(true);
    for (const [remoteAddress, localAddress] of [
      ['10.1.2.4', '10.1.2.3'],
      ['::ffff:10.1.2.4', '::ffff:10.1.2.3'],
      ['128.0.0.1', '127.0.0.1'],
      ['1270.0.0.1', '10.0.0.1'],
      ['fd00::6', 'fd00::5'],
      ['::2', '::1'],
      ['::ffff:127.0.0.1x', '10.0.0.1'],
    ])
      expect(onThisHost({ remoteAddress, localAddress }), remoteAddress).toBe(false);
  });

  it('auto splices only to another host, on to both, off to neither', () => {
    const client = (splice?: SpliceMode) =>
      new Http1Client(new URL('http://127.0.0.1:1'), { connectTimeoutMs: 1000, idleTimeoutMs: 1000, splice });
    for (const [mode, local, remote] of [
      [undefined, false, true],
      ['auto', false, true],
      ['on', true, true],
      ['off', false, false],
    ] as const) {
      expect(client(mode).splicesTo(true), `${mode} local`).toBe(local);
      expect(client(mode).splicesTo(false), `${mode} remote`).toBe(remote);
    }
  });
});
