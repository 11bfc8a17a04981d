// SSE-S3 with the static KMS key (CAIRN_KMS_SECRET_KEY): by header, by bucket default encryption
// (Put/Get/DeleteBucketEncryption) and by auto-encryption; plaintext MD5 ETags; no plaintext on the drives;
// SSE-KMS naming the static key (others: KMS.NotFoundException); without a KMS, SSE-S3 is refused and encrypted objects give a clear error while plain
// ones are still served.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer } from '@cairn/server';
import { makeClient, ROOT, s3Error, startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';

const KMS_KEY = `cairn-test-key:${randomBytes(32).toString('base64')}`;
const MARKER = 'CAIRN-SSE-S3-MARKER-51c9';
const MiB = 1024 * 1024;
const rnd = seededRandom();
let setup: TestSetup;
let s3: S3Client;

async function body(r: Promise<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>): Promise<Buffer> {
  return Buffer.from(await (await r).Body!.transformToByteArray());
}

async function filesWith(drives: string[], marker: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if ((await readFile(p)).includes(marker)) found.push(p);
    }
  };
  for (const d of drives) await walk(d);
  return found;
}

beforeAll(async () => {
  setup = await startWithBucket('sses3', { kms: { secretKey: KMS_KEY } });
  s3 = setup.s3;
});

afterAll(async () => {
  await setup?.server.close();
});

describe('SSE-S3 by header', () => {
  it('encrypts at rest, reads back without keys, ETag is the MD5 of the data', async () => {
    const data = Buffer.from(MARKER.repeat(Math.ceil((2 * MiB + 5) / MARKER.length)));
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'sses3', Key: 'obj', Body: data, ServerSideEncryption: 'AES256' }),
    );
    expect(put.ServerSideEncryption).toBe('AES256');
    expect(put.ETag).toBe(`"${createHash('md5').update(data).digest('hex')}"`);
    const got = s3.send(new GetObjectCommand({ Bucket: 'sses3', Key: 'obj' }));
    expect((await got).ServerSideEncryption).toBe('AES256');
    expect((await body(got)).equals(data)).toBe(true);
    const ranged = await body(
      s3.send(new GetObjectCommand({ Bucket: 'sses3', Key: 'obj', Range: 'bytes=65530-1048580' })),
    );
    expect(ranged.equals(data.subarray(65530, 1048581))).toBe(true);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'sses3', Key: 'obj' }))).ContentLength).toBe(data.length);
    expect(await filesWith(setup.server.drives, MARKER)).toEqual([]);
    // An SSE-C key for an SSE-S3 object: 400.
    const withKey = s3.send(
      new GetObjectCommand({
        Bucket: 'sses3',
        Key: 'obj',
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: Buffer.alloc(32, 1) as unknown as string,
      }),
    );
    expect((await s3Error(withKey)).status).toBe(400);
  });

  it('takes SSE-KMS naming the static key; refuses other keys, dual-layer and unknown algorithms, storing nothing', async () => {
    const kms = await s3.send(
      new PutObjectCommand({ Bucket: 'sses3', Key: 'kms', Body: 'kms', ServerSideEncryption: 'aws:kms' }),
    );
    expect([kms.ServerSideEncryption, kms.SSEKMSKeyId]).toEqual(['aws:kms', 'cairn-test-key']);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'sses3', Key: 'kms' }));
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', 'cairn-test-key']);
    expect((await body(s3.send(new GetObjectCommand({ Bucket: 'sses3', Key: 'kms' })))).toString()).toBe('kms');
    const other = s3.send(
      new PutObjectCommand({
        Bucket: 'sses3',
        Key: 'k',
        Body: 'x',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'k2',
      }),
    );
    expect(await s3Error(other)).toEqual({ name: 'KMS.NotFoundException', status: 400 });
    const dsse = s3.send(
      new PutObjectCommand({ Bucket: 'sses3', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms:dsse' }),
    );
    expect((await s3Error(dsse)).name).toBe('NotImplemented');
    const bad = s3.send(
      new PutObjectCommand({ Bucket: 'sses3', Key: 'k', Body: 'x', ServerSideEncryption: 'AES512' as 'AES256' }),
    );
    expect(await s3Error(bad)).toEqual({ name: 'InvalidArgument', status: 400 });
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'sses3', Key: 'k' })))).status).toBe(404);
  });

  it("takes the upload's SSE-KMS headers again on its parts and Complete, and refuses others and them on reads", async () => {
    // A client sending extra headers (signed): the SDK sends SSE-S3/SSE-KMS headers only where S3 documents them.
    const withHeaders = (headers: Record<string, string>) => {
      const c = makeClient(setup.server.url);
      c.middlewareStack.add(
        (next) => (args) => {
          Object.assign((args.request as { headers: Record<string, string> }).headers, headers);
          return next(args);
        },
        { step: 'build' },
      );
      return c;
    };
    const kms = {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'cairn-test-key',
    };
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: 'sses3',
        Key: 'mpk',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'cairn-test-key',
      }),
    );
    const part = rnd.bytes(5 * MiB + 3);
    const upload = new UploadPartCommand({ Bucket: 'sses3', Key: 'mpk', UploadId, PartNumber: 1, Body: part });
    const first = await withHeaders(kms).send(upload);
    // The same data again: the same ETag (a keyed hash of its MD5, not the MD5 itself).
    const again = await s3.send(upload);
    expect(again.ETag).toBe(first.ETag);
    expect(first.ETag).not.toBe(`"${createHash('md5').update(part).digest('hex')}"`);
    for (const other of [
      { 'x-amz-server-side-encryption': 'AES256' },
      { ...kms, 'x-amz-server-side-encryption-aws-kms-key-id': 'another-key' },
    ]) {
      expect(await s3Error(withHeaders(other).send(upload))).toEqual({ name: 'InvalidArgument', status: 400 });
    }
    const done = await withHeaders(kms).send(
      new CompleteMultipartUploadCommand({
        Bucket: 'sses3',
        Key: 'mpk',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: first.ETag, PartNumber: 1 }] },
      }),
    );
    expect([done.ServerSideEncryption, done.SSEKMSKeyId]).toEqual(['aws:kms', 'cairn-test-key']);
    expect((await body(s3.send(new GetObjectCommand({ Bucket: 'sses3', Key: 'mpk' })))).equals(part)).toBe(true);
    // SSE-S3/SSE-KMS headers describe writes: on a GET or HEAD, 400 as in S3.
    const get = withHeaders({ 'x-amz-server-side-encryption-aws-kms-key-id': 'cairn-test-key' }).send(
      new GetObjectCommand({ Bucket: 'sses3', Key: 'mpk' }),
    );
    expect(await s3Error(get)).toEqual({ name: 'InvalidArgument', status: 400 });
    const head = withHeaders({ 'x-amz-server-side-encryption': 'AES256' }).send(
      new HeadObjectCommand({ Bucket: 'sses3', Key: 'mpk' }),
    );
    expect((await s3Error(head)).status).toBe(400); // a HEAD answer has no body to name the code
  });

  it('copies into SSE-S3 and out of it', async () => {
    const data = rnd.bytes(MiB + 1);
    await s3.send(new PutObjectCommand({ Bucket: 'sses3', Key: 'plain-src', Body: data }));
    const c = await s3.send(
      new CopyObjectCommand({
        Bucket: 'sses3',
        Key: 'enc-copy',
        CopySource: 'sses3/plain-src',
        ServerSideEncryption: 'AES256',
      }),
    );
    expect(c.ServerSideEncryption).toBe('AES256');
    expect((await body(s3.send(new GetObjectCommand({ Bucket: 'sses3', Key: 'enc-copy' })))).equals(data)).toBe(true);
    await s3.send(new CopyObjectCommand({ Bucket: 'sses3', Key: 'plain-copy', CopySource: 'sses3/enc-copy' }));
    const back = await s3.send(new HeadObjectCommand({ Bucket: 'sses3', Key: 'plain-copy' }));
    expect(back.ServerSideEncryption).toBeUndefined();
  });
});

describe('bucket default encryption', () => {
  it('Put/Get/Delete, applied to PUT and multipart uploads, then no more', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bdefault' }));
    const none = await s3Error(s3.send(new GetBucketEncryptionCommand({ Bucket: 'bdefault' })));
    expect(none).toEqual({ name: 'ServerSideEncryptionConfigurationNotFoundError', status: 404 });
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'bdefault',
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
    );
    const cfg = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'bdefault' }));
    expect(cfg.ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe(
      'AES256',
    );
    const put = await s3.send(new PutObjectCommand({ Bucket: 'bdefault', Key: 'k', Body: MARKER.repeat(50) }));
    expect(put.ServerSideEncryption).toBe('AES256');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'bdefault', Key: 'mp' }));
    const parts = [rnd.bytes(5 * MiB), rnd.bytes(100)];
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) {
      etags.push(
        (await s3.send(new UploadPartCommand({ Bucket: 'bdefault', Key: 'mp', UploadId, PartNumber: i + 1, Body: p })))
          .ETag!,
      );
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'bdefault',
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const mp = s3.send(new GetObjectCommand({ Bucket: 'bdefault', Key: 'mp' }));
    expect((await mp).ServerSideEncryption).toBe('AES256');
    expect((await body(mp)).equals(Buffer.concat(parts))).toBe(true);
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: 'bdefault' }));
    expect((await s3Error(s3.send(new GetBucketEncryptionCommand({ Bucket: 'bdefault' })))).status).toBe(404);
    const after = await s3.send(new PutObjectCommand({ Bucket: 'bdefault', Key: 'k2', Body: 'plain' }));
    expect(after.ServerSideEncryption).toBeUndefined();
  });

  it('refuses dual-layer SSE-KMS defaults and a key id with AES256', async () => {
    const put = (rule: object) =>
      s3.send(
        new PutBucketEncryptionCommand({ Bucket: 'sses3', ServerSideEncryptionConfiguration: { Rules: [rule] } }),
      );
    expect((await s3Error(put({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse' } }))).name).toBe(
      'NotImplemented',
    );
    const keyed = put({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: 'k' } });
    expect((await s3Error(keyed)).status).toBe(400);
    expect((await s3Error(s3.send(new GetBucketEncryptionCommand({ Bucket: 'sses3' })))).status).toBe(404);
  });
});

describe('auto-encryption and a missing KMS', () => {
  it('encrypts every new object with CAIRN_KMS_AUTO_ENCRYPTION; without the KMS, encrypted objects fail clearly', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-sses3-'));
    const drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
    const common = {
      address: '127.0.0.1:0',
      credentials: { root: ROOT },
      storage: { background: false },
      shutdownGraceMs: 2000,
      drives,
    };
    try {
      const auto = await startServer({ ...common, kms: { secretKey: KMS_KEY, autoEncryption: true } });
      const a = makeClient(auto.url);
      await a.send(new CreateBucketCommand({ Bucket: 'auto' }));
      const put = await a.send(new PutObjectCommand({ Bucket: 'auto', Key: 'enc', Body: MARKER.repeat(40) }));
      expect(put.ServerSideEncryption).toBe('AES256');
      expect(await filesWith(drives, MARKER)).toEqual([]);
      await auto.close();
      // Started again without the KMS: a plain object written now is served, the encrypted one is a clear error.
      const bare = await startServer({ ...common, kms: {} });
      const b = makeClient(bare.url);
      try {
        await b.send(new PutObjectCommand({ Bucket: 'auto', Key: 'plain', Body: 'still served' }));
        expect((await body(b.send(new GetObjectCommand({ Bucket: 'auto', Key: 'plain' })))).toString()).toBe(
          'still served',
        );
        const enc = await s3Error(b.send(new GetObjectCommand({ Bucket: 'auto', Key: 'enc' })));
        expect(enc).toEqual({ name: 'NotImplemented', status: 501 });
        const sse = b.send(
          new PutObjectCommand({ Bucket: 'auto', Key: 'x', Body: 'x', ServerSideEncryption: 'AES256' }),
        );
        expect((await s3Error(sse)).name).toBe('NotImplemented');
      } finally {
        await bare.close();
      }
      // Another KMS key cannot open it either: an error, never wrong bytes.
      const other = await startServer({
        ...common,
        kms: { secretKey: `cairn-test-key:${randomBytes(32).toString('base64')}` },
      });
      try {
        const err = await s3Error(makeClient(other.url).send(new GetObjectCommand({ Bucket: 'auto', Key: 'enc' })));
        expect(err.status).toBe(500);
      } finally {
        await other.close();
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('refuses to start with auto-encryption and no KMS', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-sses3-'));
    try {
      await expect(
        startServer({
          address: '127.0.0.1:0',
          credentials: { root: ROOT },
          drives: [join(base, 'd1')],
          kms: { autoEncryption: true },
        }),
      ).rejects.toThrow(/needs a KMS/);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
