// Issue 16's bad input for encrypted data on the drives. Encrypted objects are read without the shards' bitrot
// check (each sealed package's AEAD tag authenticates it); a tag that fails sends that range back to storage
// with the check. So bytes flipped in an SSE-S3, SSE-KMS or SSE-C object's shard on one drive (in a package
// opened in place: its sealed bytes are gone, the range is read again) still give the right plaintext and the
// bad shard is healed, as for a plain object; the same flip on more drives than parity makes
// the GET fail, never answer wrong plaintext.
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { decodeMeta } from '../../server/src/storage/meta/meta-file.js';
import { startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';

const BUCKET = 'ssebitrot';
const MiB = 1024 * 1024;
const rnd = seededRandom();
const CUSTOMER_KEY = Buffer.alloc(32, 0x3c);
let setup: TestSetup;
let s3: S3Client;

beforeAll(async () => {
  setup = await startWithBucket(BUCKET, {
    kms: { secretKey: `bitrot-key:${randomBytes(32).toString('base64')}` },
    sseCOverLoopbackHttp: true,
    // The heal queue runs only with background work (the scanner, which checks sizes, not hashes, kept quiet).
    storage: { background: true, scannerIntervalMs: 3_600_000 },
  });
  s3 = setup.s3;
});

afterAll(async () => {
  await setup?.server.close();
});

type Kind = 'SSE-S3' | 'SSE-KMS' | 'SSE-C' | 'plain';
const KINDS: Kind[] = ['SSE-S3', 'SSE-KMS', 'SSE-C', 'plain'];

function encryption(kind: Kind) {
  if (kind === 'SSE-S3') return { ServerSideEncryption: 'AES256' as const };
  if (kind === 'SSE-KMS') return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: 'bitrot-key' };
  if (kind === 'SSE-C') return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: CUSTOMER_KEY as unknown as string }; // SDK adds the MD5
  return {};
}

async function put(kind: Kind, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...encryption(kind) }));
}

async function get(kind: Kind, key: string): Promise<Buffer> {
  const r = await s3.send(
    new GetObjectCommand({ Bucket: BUCKET, Key: key, ...(kind === 'SSE-C' ? encryption(kind) : {}) }),
  );
  return Buffer.from(await r.Body!.transformToByteArray());
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The shard file of the object on `drive`, and whether it holds a data shard (read by GETs; parity is not). */
async function shardFile(drive: string, slot: number, key: string): Promise<{ path: string; data: boolean }> {
  const obj = join(drive, BUCKET, `${key}.o`);
  const dataDir = (await readdir(obj, { withFileTypes: true })).find((e) => e.isDirectory())!.name;
  const ec = decodeMeta(await readFile(join(obj, 'meta'))).versions[0].ec!;
  return { path: join(obj, dataDir, 'part.1'), data: ec.dist[slot] - 1 < ec.data };
}

/** Flips one byte in the middle of the object's shard file on `drive` (inside a frame's shard bytes). */
async function flip(path: string): Promise<void> {
  const f = await open(path, 'r+');
  try {
    const { size } = await f.stat();
    const at = Math.floor(size / 2);
    const b = Buffer.alloc(1);
    await f.read(b, 0, 1, at);
    b[0] ^= 0x5a;
    await f.write(b, 0, 1, at);
  } finally {
    await f.close();
  }
}

/** Polls (generously: the machine may be busy) until the file's digest is `digest` again. */
async function healed(path: string, digest: string): Promise<void> {
  const end = Date.now() + 120_000;
  while (sha(await readFile(path)) !== digest) {
    if (Date.now() > end) throw new Error(`${path} was not healed`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('flipped bytes on the drives', () => {
  it.each(KINDS)(
    '%s on one drive: the right bytes answered and the data shard healed',
    async (kind) => {
      const data = rnd.bytes(3 * MiB + 12345);
      const digest = sha(data);
      for (const [slot, drive] of setup.server.drives.entries()) {
        const key = `one-${kind}-${slot}`;
        await put(kind, key, data);
        const shard = await shardFile(drive, slot, key);
        const original = sha(await readFile(shard.path));
        await flip(shard.path);
        expect(sha(await get(kind, key))).toBe(digest);
        // Only data shards are read (and so found bad) by a GET; a parity shard waits for a scan.
        if (shard.data) await healed(shard.path, original);
      }
    },
    300_000,
  );

  it.each(KINDS)(
    '%s on more drives than parity: the GET fails, never answering wrong bytes',
    async (kind) => {
      const data = rnd.bytes(MiB);
      for (const count of [3, 4]) {
        const key = `many-${kind}-${count}`;
        await put(kind, key, data);
        const drives = setup.server.drives.slice(0, count);
        for (const [slot, drive] of drives.entries()) await flip((await shardFile(drive, slot, key)).path);
        await expect(get(kind, key)).rejects.toThrow();
      }
    },
    120_000,
  );
});
