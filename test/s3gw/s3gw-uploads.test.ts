// Multipart uploads through the S3 gateway keep their initiator across a gateway restart: the backend does not
// keep it for Cairn, so the gateway writes it to its state folder (storage/s3gw/upload-records.ts). ListParts and
// ListMultipartUploads after a restart still name the user who started each upload; completing or aborting one
// (through the gateway or on the backend directly) drops its record.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketPolicyCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, makeClient, s3Error, type TestServer } from '../helpers/cairn.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';

let backend: TestServer;
let gw: S3Gateway;
let stateDir: string;
const Bucket = 'ups';
const records = async () =>
  (await readdir(join(stateDir, '.cairn.sys', 'gateway-uploads')).catch(() => [])).filter((f) => f.endsWith('.json'));

beforeAll(async () => {
  backend = await startBackend();
  stateDir = await mkdtemp(join(tmpdir(), 'cairn-s3gw-uploads-'));
  gw = await startS3Gateway(backend.url, { stateDir });
  const s3 = gw.client();
  // Objects (and uploads) belong to their writer, so ALT's upload is ALT's.
  await s3.send(new CreateBucketCommand({ Bucket, ObjectOwnership: 'ObjectWriter' }));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        Resource: `arn:aws:s3:::${Bucket}/*`,
      },
    ],
  };
  await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(policy) }));
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('an upload’s initiator is kept in the gateway’s state folder', () => {
  it('ListParts and ListMultipartUploads name the same initiators after a restart', async () => {
    const alt = makeClient(gw.url, { credentials: ALT });
    const mine = await alt.send(new CreateMultipartUploadCommand({ Bucket, Key: 'by-alt' }));
    const root = await gw.client().send(new CreateMultipartUploadCommand({ Bucket, Key: 'by-root' }));
    const initiators = async (s3: S3Client) => {
      const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
      const parts = await s3.send(new ListPartsCommand({ Bucket, Key: 'by-alt', UploadId: mine.UploadId }));
      return {
        listed: Object.fromEntries((listed.Uploads ?? []).map((u) => [u.Key, [u.Initiator?.ID, u.Owner?.ID]])),
        parts: [parts.Initiator?.ID, parts.Owner?.ID],
      };
    };
    const before = await initiators(gw.client());
    const altId = before.parts[0];
    const rootId = before.listed['by-root']?.[0];
    expect(altId).toBeTruthy();
    expect(rootId).toBeTruthy();
    expect(altId).not.toBe(rootId);
    expect(before).toEqual({
      listed: { 'by-alt': [altId, altId], 'by-root': [rootId, rootId] },
      parts: [altId, altId],
    });
    expect(await records()).toHaveLength(2);

    await gw.close();
    gw = await startS3Gateway(backend.url, { stateDir });
    expect(await initiators(gw.client())).toEqual(before);
    // ALT may still list its own upload's parts and finish it: the record says the upload is ALT's.
    const again = makeClient(gw.url, { credentials: ALT });
    const part = await again.send(
      new UploadPartCommand({ Bucket, Key: 'by-alt', UploadId: mine.UploadId, PartNumber: 1, Body: 'x' }),
    );
    await again.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'by-alt',
        UploadId: mine.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await gw.client().send(new AbortMultipartUploadCommand({ Bucket, Key: 'by-root', UploadId: root.UploadId }));
    expect(await records()).toEqual([]);
    expect((await gw.client().send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).toEqual([]);
  });

  it('an upload aborted on the backend directly is NoSuchUpload, and its record goes', async () => {
    const s3 = gw.client();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'elsewhere' }));
    expect(await records()).toHaveLength(1);
    await backendClient(backend).send(new AbortMultipartUploadCommand({ Bucket, Key: 'elsewhere', UploadId }));
    const err = await s3Error(s3.send(new ListPartsCommand({ Bucket, Key: 'elsewhere', UploadId })));
    expect(err).toEqual({ name: 'NoSuchUpload', status: 404 });
    expect(await records()).toEqual([]);
  });

  it('a record is for its own bucket and key: another key with that upload id is NoSuchUpload', async () => {
    const s3 = gw.client();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'one' }));
    const err = await s3Error(s3.send(new ListPartsCommand({ Bucket, Key: 'other', UploadId })));
    expect(err.name).toBe('NoSuchUpload');
    // The upload itself is still there, its record too.
    expect((await s3.send(new ListPartsCommand({ Bucket, Key: 'one', UploadId }))).UploadId).toBe(UploadId);
    expect(await records()).toHaveLength(1);
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'one', UploadId }));
    expect(await records()).toEqual([]);
  });
});
