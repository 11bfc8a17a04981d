// Data keys are overwritten once a request is done with them, on every way out (issue 16): a GET refused
// after the key was opened (range, conditions), answered without a body (304, HEAD), read to the end or cut
// off; a copy refused by its source conditions, a copy that only rewrites metadata, a copy stored; an
// UploadPartCopy refused after its source was opened; S3 Select. The static KMS is wrapped (not replaced) to
// keep every data key it hands out, with the unsealed-key cache off so those are the requests' own buffers.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  SelectObjectContentCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { staticKms, type Kms } from '../../server/src/api/sse/kms.js';
import { s3Error, startWithBucket, type TestSetup } from '../helpers/cairn.js';

const BUCKET = 'wipe';
const DATA = Buffer.from('name,n\n'.concat(Array.from({ length: 5000 }, (_, i) => `row${i},${i}\n`).join('')));
let setup: TestSetup;
let s3: S3Client;
/** Every data key the KMS opened for a request (the requests' own copies: the cache is off). */
const handed: Buffer[] = [];

function watched(kms: Kms): Kms {
  return {
    defaultKeyId: kms.defaultKeyId,
    rotates: kms.rotates,
    status: () => kms.status(),
    createKey: (keyId) => kms.createKey(keyId),
    rewrapKey: (keyId, sealed, context) => kms.rewrapKey(keyId, sealed, context),
    generateKey: async (keyId, context) => {
      const made = await kms.generateKey(keyId, context);
      handed.push(made.plaintext);
      return made;
    },
    decryptKey: async (keyId, sealed, context) => {
      const key = await kms.decryptKey(keyId, sealed, context);
      handed.push(key);
      return key;
    },
  };
}

/**
 * Runs `request` and answers how many of the data keys the KMS handed out meanwhile are still not all
 * zeros, after polling (a body's key is wiped when the socket is done with it, a little after the answer).
 * Fails when no key was handed out at all (the request would not test anything).
 */
async function leftUnwiped(request: () => Promise<unknown>): Promise<number> {
  const from = handed.length;
  await request();
  const mine = handed.slice(from);
  expect(mine.length).toBeGreaterThan(0);
  const live = () => mine.filter((k) => k.some((b) => b !== 0)).length;
  for (let waited = 0; live() > 0 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  return live();
}

beforeAll(async () => {
  const kms = watched(staticKms(`wipe-key:${randomBytes(32).toString('base64')}`));
  setup = await startWithBucket(BUCKET, { kms: { instance: kms, cache: { expiryMs: 0, maxEntries: 0 } } });
  s3 = setup.s3;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'obj', Body: DATA, ServerSideEncryption: 'AES256' }));
});

afterAll(async () => {
  await setup?.server.close();
});

describe('data keys wiped on every way out', () => {
  it('PUT: the new data key once stored', async () => {
    const put = () =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put', Body: DATA, ServerSideEncryption: 'AES256' }));
    expect(await leftUnwiped(put)).toBe(0);
  });

  it('GET read to the end, HEAD, 304', async () => {
    const get = async () => {
      const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'obj' }));
      expect(Buffer.from(await r.Body!.transformToByteArray()).equals(DATA)).toBe(true);
    };
    expect(await leftUnwiped(get)).toBe(0);
    expect(await leftUnwiped(() => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'obj' })))).toBe(0);
    const etag = (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'obj' }))).ETag;
    const notModified = async () =>
      expect(
        (await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'obj', IfNoneMatch: etag })))).status,
      ).toBe(304);
    expect(await leftUnwiped(notModified)).toBe(0);
  });

  it('GET refused after the key was opened: 416 and 412', async () => {
    const range = async () =>
      expect(
        (await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'obj', Range: 'bytes=999999-' })))).name,
      ).toBe('InvalidRange');
    expect(await leftUnwiped(range)).toBe(0);
    const ifMatch = async () =>
      expect(
        (await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'obj', IfMatch: '"0000"' })))).status,
      ).toBe(412);
    expect(await leftUnwiped(ifMatch)).toBe(0);
  });

  it('CopyObject: refused by a source condition, metadata-only, stored', async () => {
    const source = `${BUCKET}/obj`;
    const refused = async () =>
      expect(
        (
          await s3Error(
            s3.send(
              new CopyObjectCommand({ Bucket: BUCKET, Key: 'c1', CopySource: source, CopySourceIfMatch: '"0000"' }),
            ),
          )
        ).status,
      ).toBe(412);
    expect(await leftUnwiped(refused)).toBe(0);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'meta', Body: DATA, ServerSideEncryption: 'AES256' }));
    const metadataOnly = () =>
      s3.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: 'meta',
          CopySource: `${BUCKET}/meta`,
          MetadataDirective: 'REPLACE',
          Metadata: { color: 'blue' },
          ServerSideEncryption: 'AES256',
        }),
      );
    expect(await leftUnwiped(metadataOnly)).toBe(0);
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'meta' }))).Metadata).toEqual({ color: 'blue' });
    const stored = () =>
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'c2', CopySource: source, ServerSideEncryption: 'AES256' }));
    expect(await leftUnwiped(stored)).toBe(0);
  });

  it('UploadPartCopy refused after its source was opened (no such upload, range beyond the source)', async () => {
    const noUpload = async () =>
      expect(
        (
          await s3Error(
            s3.send(
              new UploadPartCopyCommand({
                Bucket: BUCKET,
                Key: 'mp',
                UploadId: 'no-such-upload',
                PartNumber: 1,
                CopySource: `${BUCKET}/obj`,
              }),
            ),
          )
        ).name,
      ).toBe('NoSuchUpload');
    expect(await leftUnwiped(noUpload)).toBe(0);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }));
    const badRange = async () =>
      expect(
        (
          await s3Error(
            s3.send(
              new UploadPartCopyCommand({
                Bucket: BUCKET,
                Key: 'mp',
                UploadId,
                PartNumber: 1,
                CopySource: `${BUCKET}/obj`,
                CopySourceRange: 'bytes=0-99999999',
              }),
            ),
          )
        ).name,
      ).toBe('InvalidRange');
    expect(await leftUnwiped(badRange)).toBe(0);
  });

  it('S3 Select: when its answer ends', async () => {
    const select = async () => {
      const res = await s3.send(
        new SelectObjectContentCommand({
          Bucket: BUCKET,
          Key: 'obj',
          Expression: "SELECT s.n FROM S3Object s WHERE s.name = 'row4321'",
          ExpressionType: 'SQL',
          InputSerialization: { CSV: { FileHeaderInfo: 'USE' } },
          OutputSerialization: { CSV: {} },
        }),
      );
      let out = '';
      for await (const ev of res.Payload!) if (ev.Records?.Payload) out += Buffer.from(ev.Records.Payload).toString();
      expect(out).toBe('4321\n');
    };
    expect(await leftUnwiped(select)).toBe(0);
  });
});
