// A bucket policy that requires SSE-C, as AWS's user guide writes it (Deny s3:PutObject when
// s3:x-amz-server-side-encryption-customer-algorithm is absent, or is not AES256), on every write it covers:
// PutObject, CopyObject, and the multipart path (CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload are all s3:PutObject). AWS's CompleteMultipartUpload reference: the SSE-C headers
// are required there "when the object was created using a checksum algorithm or if your bucket policy
// requires the use of SSE-C". Each refusal is 403 AccessDenied and changes nothing stored. The caller is a
// static user owning the bucket (root is never denied by a bucket policy in Cairn).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ALT, s3Error, startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';
import { signedFetch } from '../helpers/signed-request.js';

const KEY_A = Buffer.alloc(32, 0x5a);
const MiB = 1024 * 1024;
const rnd = seededRandom();
let setup: TestSetup;
let alt: S3Client;

const ssec = (key: Buffer) => ({
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: key as unknown as string, // the SDK base64-encodes a Uint8Array key and adds its MD5
});

/** The two policies of AWS's "Requiring and restricting SSE-C" (user guide): any algorithm header, or AES256. */
const POLICIES: Record<string, (bucket: string) => object> = {
  Null: (bucket) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RequireSSECObjectUploads',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'true' } },
      },
    ],
  }),
  StringNotEquals: (bucket) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RequireSSECAES256',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption-customer-algorithm': 'AES256' } },
      },
    ],
  }),
};

beforeAll(async () => {
  setup = await startWithBucket(undefined, { sseCOverLoopbackHttp: true });
  alt = setup.alt;
});

afterAll(async () => {
  await setup?.server.close();
});

const denied = { name: 'AccessDenied', status: 403 };

describe.each(Object.keys(POLICIES))('a bucket policy requiring SSE-C (%s)', (kind) => {
  const bucket = `ssec-policy-${kind.toLowerCase()}`;

  beforeAll(async () => {
    await alt.send(new CreateBucketCommand({ Bucket: bucket }));
    await alt.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(POLICIES[kind](bucket)) }));
  });

  const head = (key: string) => alt.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...ssec(KEY_A) }));
  const get = async (key: string) => {
    const r = await alt.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...ssec(KEY_A) }));
    return Buffer.from(await r.Body!.transformToByteArray());
  };

  it('refuses PutObject and CopyObject without the SSE-C headers, stores them with', async () => {
    const body = rnd.bytes(1000);
    expect(await s3Error(alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: body })))).toEqual(denied);
    expect((await s3Error(head('plain'))).status).toBe(404);
    await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'enc', Body: body, ...ssec(KEY_A) }));
    expect((await get('enc')).equals(body)).toBe(true);
    const source = {
      CopySource: `${bucket}/enc`,
      CopySourceSSECustomerAlgorithm: 'AES256',
      CopySourceSSECustomerKey: KEY_A as unknown as string,
    };
    // A copy decrypting into plain text is refused; one keeping SSE-C is allowed.
    const plainCopy = alt.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', ...source }));
    expect(await s3Error(plainCopy)).toEqual(denied);
    expect((await s3Error(head('copy'))).status).toBe(404);
    await alt.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', ...source, ...ssec(KEY_A) }));
    expect((await get('copy')).equals(body)).toBe(true);
  });

  it('refuses each multipart request without the SSE-C headers (Create, UploadPart, UploadPartCopy, Complete)', async () => {
    const key = 'mp';
    expect(await s3Error(alt.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })))).toEqual(denied);
    const none = await alt.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(none.Uploads ?? []).toEqual([]);

    // Created with the key and without a checksum algorithm: only the policy asks for the key on Complete.
    const up = await alt.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...ssec(KEY_A) }));
    const UploadId = up.UploadId!;
    const data = [rnd.bytes(5 * MiB), rnd.bytes(MiB + 3)];
    const part = (n: number, withKey: boolean) =>
      alt.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: n,
          Body: data[n - 1],
          ...(withKey ? ssec(KEY_A) : {}),
        }),
      );
    // Without the key: the policy's 403 (not the 400 the upload's missing key would give), no part stored.
    expect(await s3Error(part(1, false))).toEqual(denied);
    const listParts = () => alt.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect((await listParts()).Parts ?? []).toEqual([]);
    const p1 = await part(1, true);

    // UploadPartCopy: the destination's SSE-C headers are what the policy reads.
    await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: data[1], ...ssec(KEY_A) }));
    const copyPart = (withKey: boolean) =>
      alt.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: 2,
          CopySource: `${bucket}/src`,
          CopySourceSSECustomerAlgorithm: 'AES256',
          CopySourceSSECustomerKey: KEY_A as unknown as string,
          ...(withKey ? ssec(KEY_A) : {}),
        }),
      );
    expect(await s3Error(copyPart(false))).toEqual(denied);
    expect((await listParts()).Parts?.map((p) => p.PartNumber)).toEqual([1]);
    const p2 = await copyPart(true);

    const Parts = [
      { ETag: p1.ETag, PartNumber: 1 },
      { ETag: p2.CopyPartResult!.ETag, PartNumber: 2 },
    ];
    const complete = (withKey: boolean) =>
      alt.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts },
          ...(withKey ? ssec(KEY_A) : {}),
        }),
      );
    expect(await s3Error(complete(false))).toEqual(denied);
    // Nothing completed: the upload and its parts are still there, no object.
    expect((await listParts()).Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect((await s3Error(head(key))).status).toBe(404);
    await complete(true);
    expect((await get(key)).equals(Buffer.concat(data))).toBe(true);
  });

  it('refuses Complete with the algorithm header alone sent without the key as S3 does (400), nothing made', async () => {
    // The policy reads only the algorithm header; the key and its MD5 are still checked (as on any SSE-C write).
    const key = 'mp-half';
    const up = await alt.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...ssec(KEY_A) }));
    const body = rnd.bytes(MiB);
    const p1 = await alt.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: body,
        ...ssec(KEY_A),
      }),
    );
    const xml =
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>' +
      `<ETag>${p1.ETag}</ETag></Part></CompleteMultipartUpload>`;
    const res = await signedFetch(setup.server.url, {
      method: 'POST',
      path: `/${bucket}/${key}`,
      query: { uploadId: up.UploadId! },
      headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' },
      body: xml,
      credentials: ALT,
    });
    expect(res.status).toBe(400);
    expect((await s3Error(head(key))).status).toBe(404);
    const parts = await alt.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId }));
    expect(parts.Parts?.map((p) => p.PartNumber)).toEqual([1]);
  });
});
