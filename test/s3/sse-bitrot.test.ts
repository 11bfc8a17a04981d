// Issue 16's bad input for encrypted data on the drives: bytes flipped in an encrypted object's shard on one
// drive are caught (bitrot check) and read around from parity, so the GET answers the right plaintext; the
// same flip on every drive makes the GET fail, never answer wrong plaintext.
import { randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';

const BUCKET = 'ssebitrot';
const MiB = 1024 * 1024;
const rnd = seededRandom();
let setup: TestSetup;
let s3: S3Client;

beforeAll(async () => {
  setup = await startWithBucket(BUCKET, { kms: { secretKey: `bitrot-key:${randomBytes(32).toString('base64')}` } });
  s3 = setup.s3;
});

afterAll(async () => {
  await setup?.server.close();
});

async function put(key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ServerSideEncryption: 'AES256' }));
}

async function get(key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Flips one byte in the middle of the object's shard file on `drive`. */
async function flip(drive: string, key: string): Promise<void> {
  const obj = join(drive, BUCKET, `${key}.o`);
  const dataDir = (await readdir(obj, { withFileTypes: true })).find((e) => e.isDirectory())!.name;
  const f = await open(join(obj, dataDir, 'part.1'), 'r+');
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

describe('flipped ciphertext bytes on the drives', () => {
  it('on one drive: read around from parity, the right plaintext answered', async () => {
    const data = rnd.bytes(3 * MiB + 12345);
    for (const [i, drive] of setup.server.drives.entries()) {
      const key = `one-${i}`;
      await put(key, data);
      await flip(drive, key);
      expect((await get(key)).equals(data)).toBe(true);
    }
  });

  it('on every drive: the GET fails, never answering wrong plaintext', async () => {
    const data = rnd.bytes(MiB);
    await put('every', data);
    for (const drive of setup.server.drives) await flip(drive, 'every');
    await expect(get('every')).rejects.toThrow();
  });
});
