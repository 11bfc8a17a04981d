// Authorization reads object metadata (an object's ACL, its tags for s3:ExistingObjectTag conditions, whether
// a key exists for a caller who may list). When that read fails on too many drives the answer is the storage
// error (503 SlowDownRead, MinIO's code), never a permission answer (403) or NoSuchKey (404) that would tell the
// client something untrue. Drives fail here for real: the object's metadata file becomes a directory on three
// of four drives, so reading it fails with EISDIR.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

describe('a failed metadata read during authorization is the storage error', () => {
  let srv: TestServer;
  let root: S3Client;
  let alt: S3Client;
  let anon: S3Client;
  beforeAll(async () => {
    ({ server: srv, s3: root, alt, anon } = await startWithBucket());
  });
  afterAll(() => srv?.close());

  /** Makes the key's metadata unreadable on drives 1-3 (of 4); returns what puts it back. */
  async function failMetadata(bucket: string, key: string): Promise<() => Promise<void>> {
    const files = srv.drives.slice(0, 3).map((d) => join(d, bucket, `${key}.o`, 'meta'));
    const saved = await Promise.all(files.map((f) => readFile(f)));
    for (const f of files) {
      await rm(f);
      await mkdir(f);
    }
    return async () => {
      for (const [i, f] of files.entries()) {
        await rm(f, { recursive: true });
        await writeFile(f, saved[i]);
      }
    };
  }

  const readQuorum = { name: 'SlowDownRead', status: 503 };

  it('an object ACL that cannot be read: 503, not 403', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'faults-acl' }));
    await root.send(new PutObjectCommand({ Bucket: 'faults-acl', Key: 'pub', Body: 'public', ACL: 'public-read' }));
    expect(
      await (await anon.send(new GetObjectCommand({ Bucket: 'faults-acl', Key: 'pub' }))).Body!.transformToString(),
    ).toBe('public');
    await alt.send(new CreateBucketCommand({ Bucket: 'faults-alt' }));
    const restore = await failMetadata('faults-acl', 'pub');
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'faults-acl', Key: 'pub' })))).toEqual(readQuorum);
    // A copy's source is authorized the same way (ALT copies into its own bucket).
    expect(
      await s3Error(
        alt.send(new CopyObjectCommand({ Bucket: 'faults-alt', Key: 'copy', CopySource: 'faults-acl/pub' })),
      ),
    ).toEqual(readQuorum);
    await restore();
    expect(
      await (await anon.send(new GetObjectCommand({ Bucket: 'faults-acl', Key: 'pub' }))).Body!.transformToString(),
    ).toBe('public');
    expect((await s3Error(root.send(new HeadObjectCommand({ Bucket: 'faults-alt', Key: 'copy' })))).status).toBe(404);
  });

  it('whether a key exists, asked for a caller who may list: 503, not 404', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'faults-list' }));
    // ACLs off: the only read authorization makes is the existence check for the lister.
    await root.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: 'faults-list',
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      }),
    );
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'faults-list',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::faults-list' },
          ],
        }),
      }),
    );
    await root.send(new PutObjectCommand({ Bucket: 'faults-list', Key: 'hidden', Body: 'x' }));
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'faults-list', Key: 'hidden' })))).toEqual({
      name: 'AccessDenied',
      status: 403,
    });
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'faults-list', Key: 'absent' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    const restore = await failMetadata('faults-list', 'hidden');
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'faults-list', Key: 'hidden' })))).toEqual(
      readQuorum,
    );
    await restore();
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'faults-list', Key: 'hidden' })))).toEqual({
      name: 'AccessDenied',
      status: 403,
    });
  });

  it('object tags for an s3:ExistingObjectTag condition: 503, and a per-key error in DeleteObjects', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'faults-tags' }));
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: 'faults-tags',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: ['s3:GetObject', 's3:DeleteObject'],
              Resource: 'arn:aws:s3:::faults-tags/*',
              Condition: { StringEquals: { 's3:ExistingObjectTag/public': 'yes' } },
            },
          ],
        }),
      }),
    );
    for (const key of ['tagged', 'other']) {
      await root.send(new PutObjectCommand({ Bucket: 'faults-tags', Key: key, Body: key, Tagging: 'public=yes' }));
    }
    expect(
      await (await alt.send(new GetObjectCommand({ Bucket: 'faults-tags', Key: 'tagged' }))).Body!.transformToString(),
    ).toBe('tagged');
    const restore = await failMetadata('faults-tags', 'tagged');
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: 'faults-tags', Key: 'tagged' })))).toEqual(readQuorum);
    const r = await alt.send(
      new DeleteObjectsCommand({ Bucket: 'faults-tags', Delete: { Objects: [{ Key: 'tagged' }, { Key: 'other' }] } }),
    );
    expect((r.Errors ?? []).map((e) => [e.Key, e.Code])).toEqual([['tagged', 'SlowDownRead']]);
    expect((r.Deleted ?? []).map((d) => d.Key)).toEqual(['other']);
    await restore();
    expect(
      await (await root.send(new GetObjectCommand({ Bucket: 'faults-tags', Key: 'tagged' }))).Body!.transformToString(),
    ).toBe('tagged');
  });
});
