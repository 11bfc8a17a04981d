// Authorization of every resource an operation touches: DeleteObjects per key (s3:DeleteObject) and per
// version (s3:DeleteObjectVersion), a copy's source (s3:GetObject / s3:GetObjectVersion) for CopyObject and
// UploadPartCopy; x-amz-expected-bucket-owner against the bucket's owner; policy wildcards that would make a
// backtracking matcher spin; policies nested too deep. Every refusal is read back: nothing changed.
import { createHash, createHmac } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, ROOT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

const canonicalId = (accessKey: string) => createHash('sha256').update(accessKey).digest('hex');
const ALT_PRINCIPAL = { AWS: [ALT.accessKey] };

describe('authorization of every resource touched', () => {
  let srv: TestServer;
  let root: S3Client;
  let alt: S3Client;
  let anon: S3Client;
  beforeAll(async () => {
    ({ server: srv, s3: root, alt, anon } = await startWithBucket());
  });
  afterAll(() => srv?.close());

  async function bucket(name: string, statements: object[], keys: string[] = [], versioned = false) {
    await root.send(new CreateBucketCommand({ Bucket: name }));
    if (versioned)
      await root.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const k of keys) await root.send(new PutObjectCommand({ Bucket: name, Key: k, Body: k }));
    if (statements.length) {
      await root.send(
        new PutBucketPolicyCommand({
          Bucket: name,
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
        }),
      );
    }
  }
  const keysOf = async (name: string) =>
    ((await root.send(new ListObjectsV2Command({ Bucket: name }))).Contents ?? []).map((o) => o.Key).sort();
  const outcome = (r: {
    Deleted?: { Key?: string; VersionId?: string }[];
    Errors?: { Key?: string; Code?: string }[];
  }) => ({
    deleted: (r.Deleted ?? []).map((d) => d.Key).sort(),
    denied: (r.Errors ?? []).map((e) => `${e.Key}:${e.Code}`).sort(),
  });

  it('DeleteObjects honours a Deny on some keys: those are AccessDenied, the rest deleted', async () => {
    await bucket(
      'authz-del',
      [
        {
          Effect: 'Allow',
          Principal: ALT_PRINCIPAL,
          Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
          Resource: 'arn:aws:s3:::authz-del/*',
        },
        {
          Effect: 'Deny',
          Principal: ALT_PRINCIPAL,
          Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
          Resource: 'arn:aws:s3:::authz-del/protected/*',
        },
      ],
      ['protected/a', 'protected/b', 'open/c'],
    );
    const r = await alt.send(
      new DeleteObjectsCommand({
        Bucket: 'authz-del',
        Delete: { Objects: [{ Key: 'protected/a' }, { Key: 'open/c' }, { Key: 'protected/b' }] },
      }),
    );
    expect(outcome(r)).toEqual({
      deleted: ['open/c'],
      denied: ['protected/a:AccessDenied', 'protected/b:AccessDenied'],
    });
    expect(await keysOf('authz-del')).toEqual(['protected/a', 'protected/b']);
    // Quiet mode reports the refusals too.
    const quiet = await alt.send(
      new DeleteObjectsCommand({ Bucket: 'authz-del', Delete: { Quiet: true, Objects: [{ Key: 'protected/a' }] } }),
    );
    expect(outcome(quiet)).toEqual({ deleted: [], denied: ['protected/a:AccessDenied'] });
    expect(await keysOf('authz-del')).toEqual(['protected/a', 'protected/b']);
  });

  it('DeleteObjects authorizes versions with s3:DeleteObjectVersion: denied versions stay', async () => {
    await bucket(
      'authz-ver',
      [
        {
          Effect: 'Allow',
          Principal: ALT_PRINCIPAL,
          Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject', 's3:PutObject'],
          Resource: 'arn:aws:s3:::authz-ver/*',
        },
        {
          Effect: 'Deny',
          Principal: ALT_PRINCIPAL,
          Action: 's3:DeleteObjectVersion',
          Resource: 'arn:aws:s3:::authz-ver/protected/*',
        },
      ],
      ['protected/v', 'protected/v', 'open/x'],
      true,
    );
    const before = (await root.send(new ListObjectVersionsCommand({ Bucket: 'authz-ver' }))).Versions ?? [];
    const ids = (key: string) => before.filter((v) => v.Key === key).map((v) => v.VersionId!);
    expect(ids('protected/v').length).toBe(2);
    const r = await alt.send(
      new DeleteObjectsCommand({
        Bucket: 'authz-ver',
        Delete: {
          Objects: [
            ...ids('protected/v').map((VersionId) => ({ Key: 'protected/v', VersionId })),
            { Key: 'open/x', VersionId: ids('open/x')[0] },
          ],
        },
      }),
    );
    expect(outcome(r)).toEqual({
      deleted: ['open/x'],
      denied: ['protected/v:AccessDenied', 'protected/v:AccessDenied'],
    });
    // s3:DeleteObject is allowed: without a version id a delete marker goes on top, the versions stay.
    const marker = await alt.send(
      new DeleteObjectsCommand({ Bucket: 'authz-ver', Delete: { Objects: [{ Key: 'protected/v' }] } }),
    );
    expect(marker.Deleted?.[0]?.DeleteMarker).toBe(true);
    const after = await root.send(new ListObjectVersionsCommand({ Bucket: 'authz-ver' }));
    expect((after.Versions ?? []).map((v) => v.VersionId).sort()).toEqual(ids('protected/v').sort());
  });

  it('DeleteObjects works under an Allow scoped to some keys (was refused as a whole)', async () => {
    await bucket(
      'authz-alice',
      [
        {
          Effect: 'Allow',
          Principal: ALT_PRINCIPAL,
          Action: 's3:DeleteObject',
          Resource: 'arn:aws:s3:::authz-alice/alice/*',
        },
      ],
      ['alice/1', 'alice/2', 'bob/1'],
    );
    const r = await alt.send(
      new DeleteObjectsCommand({
        Bucket: 'authz-alice',
        Delete: { Objects: [{ Key: 'alice/1' }, { Key: 'bob/1' }, { Key: 'alice/2' }] },
      }),
    );
    expect(outcome(r)).toEqual({ deleted: ['alice/1', 'alice/2'], denied: ['bob/1:AccessDenied'] });
    expect(await keysOf('authz-alice')).toEqual(['bob/1']);
    // Anonymous callers have no grant at all: every key is refused, nothing deleted.
    const a = await anon.send(
      new DeleteObjectsCommand({ Bucket: 'authz-alice', Delete: { Objects: [{ Key: 'bob/1' }] } }),
    );
    expect(outcome(a)).toEqual({ deleted: [], denied: ['bob/1:AccessDenied'] });
    expect(await keysOf('authz-alice')).toEqual(['bob/1']);
    expect(
      (
        await s3Error(
          anon.send(new DeleteObjectsCommand({ Bucket: 'no-such-authz', Delete: { Objects: [{ Key: 'x' }] } })),
        )
      ).name,
    ).toBe('NoSuchBucket');
  });

  it('a copy needs read permission on its source: CopyObject and UploadPartCopy', async () => {
    await bucket(
      'authz-copy',
      [
        {
          Effect: 'Allow',
          Principal: ALT_PRINCIPAL,
          Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts'],
          Resource: 'arn:aws:s3:::authz-copy/*',
        },
        {
          Effect: 'Deny',
          Principal: ALT_PRINCIPAL,
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::authz-copy/secret*',
        },
      ],
      ['secret', 'public'],
    );
    await root.send(new CreateBucketCommand({ Bucket: 'authz-other' }));
    await root.send(new PutObjectCommand({ Bucket: 'authz-other', Key: 'private', Body: 'p' }));
    for (const source of ['authz-copy/secret', 'authz-other/private']) {
      expect(
        await s3Error(alt.send(new CopyObjectCommand({ Bucket: 'authz-copy', Key: 'stolen', CopySource: source }))),
      ).toEqual({ name: 'AccessDenied', status: 403 });
    }
    expect((await s3Error(root.send(new HeadObjectCommand({ Bucket: 'authz-copy', Key: 'stolen' })))).status).toBe(404);
    await alt.send(new CopyObjectCommand({ Bucket: 'authz-copy', Key: 'copied', CopySource: 'authz-copy/public' }));
    expect(
      await (await root.send(new GetObjectCommand({ Bucket: 'authz-copy', Key: 'copied' }))).Body!.transformToString(),
    ).toBe('public');

    const up = await alt.send(new CreateMultipartUploadCommand({ Bucket: 'authz-copy', Key: 'assembled' }));
    const partCopy = (CopySource: string) =>
      alt.send(
        new UploadPartCopyCommand({
          Bucket: 'authz-copy',
          Key: 'assembled',
          UploadId: up.UploadId,
          PartNumber: 1,
          CopySource,
        }),
      );
    expect(await s3Error(partCopy('authz-copy/secret'))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(partCopy('authz-other/private'))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(
      (await alt.send(new ListPartsCommand({ Bucket: 'authz-copy', Key: 'assembled', UploadId: up.UploadId }))).Parts ??
        [],
    ).toEqual([]);
    await partCopy('authz-copy/public');
  });

  it('copying a named version needs s3:GetObjectVersion', async () => {
    // authz-ver allows ALT s3:GetObject but not s3:GetObjectVersion.
    await root.send(new PutObjectCommand({ Bucket: 'authz-ver', Key: 'doc', Body: 'v1' }));
    const v1 = (await root.send(new HeadObjectCommand({ Bucket: 'authz-ver', Key: 'doc' }))).VersionId!;
    const byVersion = await s3Error(
      alt.send(
        new CopyObjectCommand({ Bucket: 'authz-ver', Key: 'doc-copy', CopySource: `authz-ver/doc?versionId=${v1}` }),
      ),
    );
    expect(byVersion).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await s3Error(root.send(new HeadObjectCommand({ Bucket: 'authz-ver', Key: 'doc-copy' })))).status).toBe(
      404,
    );
    await alt.send(new CopyObjectCommand({ Bucket: 'authz-ver', Key: 'doc-copy', CopySource: 'authz-ver/doc' }));
  });

  it("x-amz-expected-bucket-owner is compared with the bucket's owner, the source's for a copy", async () => {
    await alt.send(new CreateBucketCommand({ Bucket: 'authz-alt-owned' }));
    await alt.send(new PutObjectCommand({ Bucket: 'authz-alt-owned', Key: 'k', Body: 'alt' }));
    await alt.send(
      new HeadBucketCommand({ Bucket: 'authz-alt-owned', ExpectedBucketOwner: canonicalId(ALT.accessKey) }),
    );
    expect(
      (
        await s3Error(
          alt.send(
            new HeadBucketCommand({ Bucket: 'authz-alt-owned', ExpectedBucketOwner: canonicalId(ROOT.accessKey) }),
          ),
        )
      ).status,
    ).toBe(403);
    // Root may do anything, but the header still states whose bucket it expects.
    await root.send(
      new HeadBucketCommand({ Bucket: 'authz-alt-owned', ExpectedBucketOwner: canonicalId(ALT.accessKey) }),
    );
    expect(
      (
        await s3Error(
          root.send(
            new HeadBucketCommand({ Bucket: 'authz-alt-owned', ExpectedBucketOwner: canonicalId(ROOT.accessKey) }),
          ),
        )
      ).status,
    ).toBe(403);
    await root.send(new HeadBucketCommand({ Bucket: 'authz-copy', ExpectedBucketOwner: canonicalId(ROOT.accessKey) }));

    const copy = (ExpectedSourceBucketOwner: string) =>
      alt.send(
        new CopyObjectCommand({
          Bucket: 'authz-alt-owned',
          Key: 'copy',
          CopySource: 'authz-alt-owned/k',
          ExpectedBucketOwner: canonicalId(ALT.accessKey),
          ExpectedSourceBucketOwner,
        }),
      );
    expect(await s3Error(copy(canonicalId(ROOT.accessKey)))).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await s3Error(alt.send(new HeadObjectCommand({ Bucket: 'authz-alt-owned', Key: 'copy' })))).status).toBe(
      404,
    );
    await copy(canonicalId(ALT.accessKey));
  });

  it('wildcards that make a backtracking matcher spin are matched at once (Resource and StringLike)', async () => {
    const evil = '*a*a*a*a*a*a*a*a*ab';
    await bucket(
      'authz-glob',
      [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::authz-glob/${evil}` },
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::authz-glob',
          Condition: { StringLike: { 's3:prefix': [evil, 'home/??/*'] } },
        },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::authz-glob',
          Condition: { StringLike: { 's3:prefix': 'home/xx/*' } },
        },
      ],
      ['a'.repeat(1000), `${'a'.repeat(20)}b`],
    );
    // A 1,000-character key against 8 stars: a RegExp backtracking through it would not answer in a lifetime.
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'authz-glob', Key: 'a'.repeat(1000) })))).toEqual({
      name: 'AccessDenied',
      status: 403,
    });
    expect(
      await (
        await anon.send(new GetObjectCommand({ Bucket: 'authz-glob', Key: `${'a'.repeat(20)}b` }))
      ).Body!.transformToString(),
    ).toBe(`${'a'.repeat(20)}b`);
    const list = (Prefix: string) => anon.send(new ListObjectsV2Command({ Bucket: 'authz-glob', Prefix }));
    expect((await s3Error(list('a'.repeat(1000)))).status).toBe(403);
    expect((await list(`${'a'.repeat(10)}b`)).KeyCount).toBe(0);
    expect((await list('home/ab/docs')).KeyCount).toBe(0);
    expect((await s3Error(list('home/abc/docs'))).status).toBe(403); // ? is exactly one character
    expect((await s3Error(list('home/xx/docs'))).status).toBe(403); // the Deny's StringLike
  });

  it('a policy nested thousands deep is MalformedPolicy and is not stored', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'authz-deep' }));
    // Built as text: JSON.stringify itself overflows the stack on values this deep.
    const deep = (n: number) => `${'['.repeat(n)}"s3:GetObject"${']'.repeat(n)}`;
    const statement = (field: string, value: string) =>
      JSON.stringify({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::authz-deep/*',
        [field]: '@',
      }).replace('"@"', value);
    for (const doc of [
      `{"Statement":[${statement('Action', deep(9000))}]}`,
      `{"Statement":[${statement('Condition', `{"StringLike":{"s3:prefix":${deep(9000)}}}`)}]}`,
      `{"Statement":[${statement('Principal', `{"AWS":${deep(9000)}}`)}]}`,
      `{"Id":${deep(9000)},"Statement":[${statement('Sid', '"s"')}]}`,
      `{"Statement":[${statement('Action', deep(2))}]}`,
    ]) {
      expect(await s3Error(root.send(new PutBucketPolicyCommand({ Bucket: 'authz-deep', Policy: doc })))).toEqual({
        name: 'MalformedPolicy',
        status: 400,
      });
    }
    expect((await s3Error(root.send(new GetBucketPolicyCommand({ Bucket: 'authz-deep' })))).name).toBe(
      'NoSuchBucketPolicy',
    );
  });

  it('a POST policy nested thousands deep is InvalidPolicyDocument', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'authz-post', ACL: 'public-read-write' }));
    const deep = `${'['.repeat(9000)}"x"${']'.repeat(9000)}`;
    const expiration = new Date(Date.now() + 60_000).toISOString();
    const policy = Buffer.from(`{"expiration":"${expiration}","conditions":[["eq","$key",${deep}]]}`).toString(
      'base64',
    );
    const form = new FormData();
    form.append('key', 'posted');
    form.append('AWSAccessKeyId', ROOT.accessKey);
    form.append('policy', policy);
    form.append('signature', createHmac('sha1', ROOT.secretKey).update(policy).digest('base64'));
    form.append('file', new Blob(['x']), 'f');
    const res = await fetch(`${srv.url}/authz-post`, { method: 'POST', body: form });
    const answer = [res.status, await res.text()];
    expect(answer).toEqual([400, expect.stringContaining('<Code>InvalidPolicyDocument</Code>')]);
    expect(await keysOf('authz-post')).toEqual([]);
  });
});
