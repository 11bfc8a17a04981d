// Public access block and object ownership controls: stored, returned, and narrowing what ACLs and
// policies grant.
import {
  CreateBucketCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

const DENIED = { name: 'AccessDenied', status: 403 };

const block = (over: Record<string, boolean>) => ({
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
  ...over,
});

describe('public access block and ownership controls', () => {
  let srv: TestServer;
  let root: S3Client;
  let alt: S3Client;
  let anon: S3Client;

  beforeAll(async () => {
    ({ server: srv, s3: root, alt, anon } = await startWithBucket());
  });
  afterAll(() => srv?.close());

  it('stores, returns and deletes a public access block', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'pab' }));
    expect(await s3Error(root.send(new GetPublicAccessBlockCommand({ Bucket: 'pab' })))).toEqual({
      name: 'NoSuchPublicAccessBlockConfiguration',
      status: 404,
    });
    const conf = block({ BlockPublicAcls: true, IgnorePublicAcls: true });
    await root.send(new PutPublicAccessBlockCommand({ Bucket: 'pab', PublicAccessBlockConfiguration: conf }));
    expect(
      (await root.send(new GetPublicAccessBlockCommand({ Bucket: 'pab' }))).PublicAccessBlockConfiguration,
    ).toEqual(conf);
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: 'pab' }));
    expect((await s3Error(root.send(new GetPublicAccessBlockCommand({ Bucket: 'pab' })))).status).toBe(404);
  });

  it('BlockPublicAcls refuses public ACLs (nothing stored); IgnorePublicAcls disables existing ones', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'pab-acl' }));
    await root.send(new PutObjectCommand({ Bucket: 'pab-acl', Key: 'k', Body: 'v', ACL: 'public-read' }));
    await anon.send(new GetObjectCommand({ Bucket: 'pab-acl', Key: 'k' }));
    await root.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pab-acl',
        PublicAccessBlockConfiguration: block({ BlockPublicAcls: true }),
      }),
    );
    const publicPut = { Bucket: 'pab-acl', Key: 'k2', Body: 'v', ACL: 'public-read' as const };
    expect(await s3Error(root.send(new PutObjectCommand(publicPut)))).toEqual(DENIED);
    expect((await s3Error(root.send(new GetObjectCommand({ Bucket: 'pab-acl', Key: 'k2' })))).status).toBe(404);
    const aclBefore = (await root.send(new GetBucketAclCommand({ Bucket: 'pab-acl' }))).Grants;
    expect(await s3Error(root.send(new PutBucketAclCommand({ Bucket: 'pab-acl', ACL: 'public-read' })))).toEqual(
      DENIED,
    );
    expect((await root.send(new GetBucketAclCommand({ Bucket: 'pab-acl' }))).Grants).toEqual(aclBefore);
    await root.send(new PutObjectCommand({ Bucket: 'pab-acl', Key: 'k3', Body: 'v', ACL: 'private' }));
    await root.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pab-acl',
        PublicAccessBlockConfiguration: block({ IgnorePublicAcls: true }),
      }),
    );
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'pab-acl', Key: 'k' })))).toEqual(DENIED);
  });

  it('BlockPublicPolicy refuses a public policy; RestrictPublicBuckets stops one that exists', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'pab-pol' }));
    await root.send(new PutObjectCommand({ Bucket: 'pab-pol', Key: 'k', Body: 'v' }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pab-pol/*' }],
    });
    await root.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pab-pol',
        PublicAccessBlockConfiguration: block({ BlockPublicPolicy: true }),
      }),
    );
    expect(await s3Error(root.send(new PutBucketPolicyCommand({ Bucket: 'pab-pol', Policy: policy })))).toEqual(DENIED);
    const noPolicy = await s3Error(root.send(new GetBucketPolicyCommand({ Bucket: 'pab-pol' })));
    expect(noPolicy).toEqual({ name: 'NoSuchBucketPolicy', status: 404 });
    await root.send(new PutPublicAccessBlockCommand({ Bucket: 'pab-pol', PublicAccessBlockConfiguration: block({}) }));
    await root.send(new PutBucketPolicyCommand({ Bucket: 'pab-pol', Policy: policy }));
    await anon.send(new GetObjectCommand({ Bucket: 'pab-pol', Key: 'k' }));
    await root.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pab-pol',
        PublicAccessBlockConfiguration: block({ RestrictPublicBuckets: true }),
      }),
    );
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'pab-pol', Key: 'k' })))).toEqual(DENIED);
    await root.send(new GetObjectCommand({ Bucket: 'pab-pol', Key: 'k' }));
  });

  it('ownership controls: stored, returned, deleted; BucketOwnerEnforced turns ACLs off', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'own', ObjectOwnership: 'BucketOwnerEnforced', ACL: 'private' }));
    const got = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own' }));
    expect(got.OwnershipControls?.Rules?.map((r) => r.ObjectOwnership)).toEqual(['BucketOwnerEnforced']);
    expect(await s3Error(root.send(new PutBucketAclCommand({ Bucket: 'own', ACL: 'private' })))).toEqual({
      name: 'AccessControlListNotSupported',
      status: 400,
    });
    expect(
      (await s3Error(root.send(new PutObjectCommand({ Bucket: 'own', Key: 'k', Body: 'v', ACL: 'public-read' })))).name,
    ).toBe('AccessControlListNotSupported');
    await root.send(new PutObjectCommand({ Bucket: 'own', Key: 'k', Body: 'v', ACL: 'bucket-owner-full-control' }));
    await root.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'own' }));
    expect(await s3Error(root.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own' })))).toEqual({
      name: 'OwnershipControlsNotFoundError',
      status: 404,
    });
    // A bucket ACL that grants to others cannot be combined with BucketOwnerEnforced.
    await root.send(new PutBucketAclCommand({ Bucket: 'own', ACL: 'public-read' }));
    const refused = await s3Error(
      root.send(
        new PutBucketOwnershipControlsCommand({
          Bucket: 'own',
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        }),
      ),
    );
    expect(refused).toEqual({ name: 'InvalidBucketAclWithObjectOwnership', status: 400 });
    await anon.send(new ListObjectsV2Command({ Bucket: 'own' }));
    // Only the owner manages these documents.
    expect(await s3Error(alt.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own' })))).toEqual(DENIED);
  });
});
