// Canned ACLs and AccessControlPolicy documents: stored on buckets and objects, rendered by Get*Acl and
// enforced for other users and anonymous callers when no bucket policy decides.
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

const DENIED = { name: 'AccessDenied', status: 403 };

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

describe('ACLs', () => {
  let srv: TestServer;
  let root: S3Client;
  let alt: S3Client;
  let anon: S3Client;

  beforeAll(async () => {
    ({ server: srv, s3: root, alt, anon } = await startWithBucket());
  });
  afterAll(() => srv?.close());

  it('a public-read object is readable anonymously; a private one in the same bucket is not', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-obj' }));
    await root.send(new PutObjectCommand({ Bucket: 'acl-obj', Key: 'pub', Body: 'hello', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: 'acl-obj', Key: 'priv', Body: 'secret' }));
    const got = await anon.send(new GetObjectCommand({ Bucket: 'acl-obj', Key: 'pub' }));
    expect(await got.Body!.transformToString()).toBe('hello');
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'acl-obj', Key: 'priv' })))).toEqual(DENIED);
    // The bucket itself stays private: no anonymous listing.
    expect(await s3Error(anon.send(new ListObjectsV2Command({ Bucket: 'acl-obj' })))).toEqual(DENIED);
    // The hidden ACL entry never shows as user metadata.
    const head = await root.send(new HeadObjectCommand({ Bucket: 'acl-obj', Key: 'pub' }));
    expect(head.Metadata).toEqual({});
    const acl = await root.send(new GetObjectAclCommand({ Bucket: 'acl-obj', Key: 'pub' }));
    expect(acl.Grants?.map((g) => [g.Grantee?.URI ?? g.Grantee?.Type, g.Permission])).toEqual([
      [ALL_USERS, 'READ'],
      ['CanonicalUser', 'FULL_CONTROL'],
    ]);
  });

  it('PutObjectAcl changes access; an invalid canned value is refused and changes nothing', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-put-obj' }));
    await root.send(new PutObjectCommand({ Bucket: 'acl-put-obj', Key: 'priv', Body: 'secret' }));
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: 'acl-put-obj', Key: 'priv' })))).toEqual(DENIED);
    await root.send(new PutObjectAclCommand({ Bucket: 'acl-put-obj', Key: 'priv', ACL: 'authenticated-read' }));
    const got = await alt.send(new GetObjectCommand({ Bucket: 'acl-put-obj', Key: 'priv' }));
    expect(await got.Body!.transformToString()).toBe('secret');
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'acl-put-obj', Key: 'priv' })))).toEqual(DENIED);
    const before = await root.send(new GetObjectAclCommand({ Bucket: 'acl-put-obj', Key: 'priv' }));
    const everyone = { Bucket: 'acl-put-obj', Key: 'priv', ACL: 'everyone' as never };
    const bad = await s3Error(root.send(new PutObjectAclCommand(everyone)));
    expect(bad).toEqual({ name: 'InvalidArgument', status: 400 });
    const after = await root.send(new GetObjectAclCommand({ Bucket: 'acl-put-obj', Key: 'priv' }));
    expect(after.Grants).toEqual(before.Grants);
    await alt.send(new GetObjectCommand({ Bucket: 'acl-put-obj', Key: 'priv' }));
  });

  it('a public-read-write bucket lets others list and write; their objects stay private to them', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-rw', ACL: 'public-read-write' }));
    const acl = await root.send(new GetBucketAclCommand({ Bucket: 'acl-rw' }));
    expect(acl.Grants?.map((g) => [g.Grantee?.URI ?? g.Grantee?.Type, g.Permission])).toEqual([
      [ALL_USERS, 'READ'],
      [ALL_USERS, 'WRITE'],
      ['CanonicalUser', 'FULL_CONTROL'],
    ]);
    await alt.send(new PutObjectCommand({ Bucket: 'acl-rw', Key: 'from-alt', Body: 'x' }));
    await anon.send(new PutObjectCommand({ Bucket: 'acl-rw', Key: 'from-anon', Body: 'y' }));
    const list = await anon.send(new ListObjectsV2Command({ Bucket: 'acl-rw' }));
    expect(list.Contents?.map((o) => o.Key)).toEqual(['from-alt', 'from-anon']);
    // alt owns its object; anonymous callers may not read it.
    expect(
      await (await alt.send(new GetObjectCommand({ Bucket: 'acl-rw', Key: 'from-alt' }))).Body!.transformToString(),
    ).toBe('x');
    expect(await s3Error(anon.send(new GetObjectCommand({ Bucket: 'acl-rw', Key: 'from-alt' })))).toEqual(DENIED);
    // Only the owner (or a WRITE_ACP grantee) changes the bucket's ACL.
    expect(await s3Error(alt.send(new PutBucketAclCommand({ Bucket: 'acl-rw', ACL: 'private' })))).toEqual(DENIED);
  });

  it('PutBucketAcl with an AccessControlPolicy body grants a group; both body and header is refused', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-doc' }));
    expect(await s3Error(alt.send(new ListObjectsV2Command({ Bucket: 'acl-doc' })))).toEqual(DENIED);
    const owner = (await root.send(new GetBucketAclCommand({ Bucket: 'acl-doc' }))).Owner!;
    await root.send(
      new PutBucketAclCommand({
        Bucket: 'acl-doc',
        AccessControlPolicy: {
          Owner: owner,
          Grants: [{ Grantee: { Type: 'Group', URI: AUTHENTICATED }, Permission: 'READ' }],
        },
      }),
    );
    await alt.send(new ListObjectsV2Command({ Bucket: 'acl-doc' }));
    expect(await s3Error(anon.send(new ListObjectsV2Command({ Bucket: 'acl-doc' })))).toEqual(DENIED);
    // Group grants are listed before user grants.
    await root.send(
      new PutBucketAclCommand({
        Bucket: 'acl-doc',
        AccessControlPolicy: {
          Owner: owner,
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: owner.ID }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'Group', URI: AUTHENTICATED }, Permission: 'READ' },
          ],
        },
      }),
    );
    const listed = await root.send(new GetBucketAclCommand({ Bucket: 'acl-doc' }));
    expect(listed.Grants?.map((g) => [g.Grantee?.Type, g.Permission])).toEqual([
      ['Group', 'READ'],
      ['CanonicalUser', 'FULL_CONTROL'],
    ]);
    const both = await s3Error(
      root.send(
        new PutBucketAclCommand({
          Bucket: 'acl-doc',
          ACL: 'private',
          AccessControlPolicy: { Owner: owner, Grants: [] },
        }),
      ),
    );
    expect(both.status).toBe(400);
    await alt.send(new ListObjectsV2Command({ Bucket: 'acl-doc' }));
    expect((await root.send(new GetBucketPolicyStatusCommand({ Bucket: 'acl-doc' }))).PolicyStatus?.IsPublic).toBe(
      true,
    );
    // An empty grant list revokes everything; the owner keeps its access as owner.
    await root.send(new PutBucketAclCommand({ Bucket: 'acl-doc', AccessControlPolicy: { Owner: owner, Grants: [] } }));
    expect((await root.send(new GetBucketAclCommand({ Bucket: 'acl-doc' }))).Grants ?? []).toEqual([]);
    expect(await s3Error(alt.send(new ListObjectsV2Command({ Bucket: 'acl-doc' })))).toEqual(DENIED);
    await root.send(new ListObjectsV2Command({ Bucket: 'acl-doc' }));
    expect((await root.send(new GetBucketPolicyStatusCommand({ Bucket: 'acl-doc' }))).PolicyStatus?.IsPublic).toBe(
      false,
    );
  });

  it('an anonymous POST form upload into a public-read-write bucket stores the form acl', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-post', ACL: 'public-read-write' }));
    const form = new FormData();
    form.append('key', 'posted.txt');
    form.append('acl', 'public-read');
    form.append('tagging', '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>');
    form.append('file', new Blob(['posted']), 'posted.txt');
    expect((await fetch(`${srv.url}/acl-post`, { method: 'POST', body: form })).status).toBe(204);
    expect((await root.send(new GetObjectTaggingCommand({ Bucket: 'acl-post', Key: 'posted.txt' }))).TagSet).toEqual([
      { Key: 'k', Value: 'v' },
    ]);
    expect(
      await (
        await anon.send(new GetObjectCommand({ Bucket: 'acl-post', Key: 'posted.txt' }))
      ).Body!.transformToString(),
    ).toBe('posted');
    // Without the public-read-write grant the same POST is refused.
    await root.send(new PutBucketAclCommand({ Bucket: 'acl-post', ACL: 'private' }));
    const again = new FormData();
    again.append('key', 'second.txt');
    again.append('file', new Blob(['x']), 'second.txt');
    expect((await fetch(`${srv.url}/acl-post`, { method: 'POST', body: again })).status).toBe(403);
  });
});
