// Canonical ids and display names configured per user show up as ACL owners and grantees, and grants by
// id name configured users only.
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketAclCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsFromEnv } from '../../server/src/http/auth/credentials.js';
import { ALT, ROOT, s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';

const DENIED = { name: 'AccessDenied', status: 403 };

describe('ACL accounts', () => {
  let srv: TestServer;
  let root: S3Client;
  let alt: S3Client;

  beforeAll(async () => {
    srv = await startTestServer({
      credentials: {
        root: { ...ROOT, canonicalId: 'root-canonical-id', displayName: 'Root Person' },
        users: [{ ...ALT, canonicalId: 'alt-canonical-id', displayName: 'Alt Person' }],
      },
    });
    root = srv.client();
    alt = srv.client({ credentials: ALT });
  });
  afterAll(() => srv?.close());

  it('grants by canonical id reach the configured user and read back with its display name', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-ids' }));
    const before = await root.send(new GetBucketAclCommand({ Bucket: 'acl-ids' }));
    expect(before.Owner).toEqual({ ID: 'root-canonical-id', DisplayName: 'Root Person' });
    expect(await s3Error(alt.send(new ListObjectsV2Command({ Bucket: 'acl-ids' })))).toEqual(DENIED);
    await root.send(
      new PutBucketAclCommand({
        Bucket: 'acl-ids',
        AccessControlPolicy: {
          Owner: before.Owner,
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: 'alt-canonical-id' }, Permission: 'READ' },
            { Grantee: { Type: 'CanonicalUser', ID: 'root-canonical-id' }, Permission: 'FULL_CONTROL' },
          ],
        },
      }),
    );
    await alt.send(new ListObjectsV2Command({ Bucket: 'acl-ids' }));
    const after = await root.send(new GetBucketAclCommand({ Bucket: 'acl-ids' }));
    expect(after.Grants?.map((g) => [g.Grantee?.ID, g.Grantee?.DisplayName, g.Permission])).toEqual([
      ['alt-canonical-id', 'Alt Person', 'READ'],
      ['root-canonical-id', 'Root Person', 'FULL_CONTROL'],
    ]);
  });

  it('a grant to an unknown id is InvalidArgument and changes nothing', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-unknown-id', ACL: 'authenticated-read' }));
    const before = await root.send(new GetBucketAclCommand({ Bucket: 'acl-unknown-id' }));
    const bad = await s3Error(
      root.send(
        new PutBucketAclCommand({
          Bucket: 'acl-unknown-id',
          AccessControlPolicy: {
            Owner: before.Owner,
            Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'nobody' }, Permission: 'READ' }],
          },
        }),
      ),
    );
    expect(bad).toEqual({ name: 'InvalidArgument', status: 400 });
    expect((await root.send(new GetBucketAclCommand({ Bucket: 'acl-unknown-id' }))).Grants).toEqual(before.Grants);
    await alt.send(new ListObjectsV2Command({ Bucket: 'acl-unknown-id' }));
  });

  it('x-amz-grant-* headers: quoted or not, several grantees; malformed ones are refused at once', async () => {
    await alt.send(
      new CreateBucketCommand({
        Bucket: 'acl-hdr',
        GrantRead: 'id=root-canonical-id, uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"',
        GrantFullControl: ' id = "alt-canonical-id" ',
      }),
    );
    const acl = await alt.send(new GetBucketAclCommand({ Bucket: 'acl-hdr' }));
    expect(acl.Grants?.map((g) => [g.Grantee?.ID ?? g.Grantee?.URI, g.Permission])).toEqual([
      ['http://acs.amazonaws.com/groups/global/AuthenticatedUsers', 'READ'],
      ['alt-canonical-id', 'FULL_CONTROL'],
      ['root-canonical-id', 'READ'],
    ]);
    // A value of spaces made the old pattern backtrack for minutes (cubic); now it is an answer.
    const byEmail = new CreateBucketCommand({ Bucket: 'acl-hdr-bad', GrantRead: 'emailAddress="a@b.c"' });
    const unresolvable = await s3Error(alt.send(byEmail));
    expect(unresolvable).toEqual({ name: 'UnresolvableGrantByEmailAddress', status: 400 });
    for (const GrantRead of [`id=${' '.repeat(8000)}x"y`, 'id="a"b"', 'nonsense']) {
      expect(
        await s3Error(alt.send(new CreateBucketCommand({ Bucket: 'acl-hdr-bad', GrantRead }))),
        GrantRead.slice(0, 20),
      ).toEqual({ name: 'InvalidArgument', status: 400 });
    }
    expect((await s3Error(root.send(new ListObjectsV2Command({ Bucket: 'acl-hdr-bad' })))).name).toBe('NoSuchBucket');
  });

  it('multipart uploads list their initiator as Initiator and Owner', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-mpu', ACL: 'public-read-write' }));
    const mine = await root.send(new CreateMultipartUploadCommand({ Bucket: 'acl-mpu', Key: 'a' }));
    const theirs = await alt.send(new CreateMultipartUploadCommand({ Bucket: 'acl-mpu', Key: 'b' }));
    const list = await root.send(new ListMultipartUploadsCommand({ Bucket: 'acl-mpu' }));
    expect(list.Uploads?.map((u) => [u.UploadId, u.Initiator?.ID, u.Owner?.DisplayName])).toEqual([
      [mine.UploadId, 'root-canonical-id', 'Root Person'],
      [theirs.UploadId, 'alt-canonical-id', 'Alt Person'],
    ]);
    const parts = await root.send(new ListPartsCommand({ Bucket: 'acl-mpu', Key: 'b', UploadId: theirs.UploadId }));
    expect(parts.Initiator?.ID).toBe('alt-canonical-id');
  });

  it('reads ids and names from CAIRN_ROOT_CANONICAL_ID / CAIRN_ROOT_DISPLAY_NAME and CAIRN_USERS_FILE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-accounts-'));
    try {
      const file = join(dir, 'users.json');
      await writeFile(
        file,
        JSON.stringify([
          { accessKey: 'u1', secretKey: 'secret-u1', canonicalId: 'id-u1', displayName: 'U One' },
          { accessKey: 'u2', secretKey: 'secret-u2' },
        ]),
      );
      const cfg = await credentialsFromEnv({
        CAIRN_ROOT_USER: 'rootkey',
        CAIRN_ROOT_PASSWORD: 'rootsecret',
        CAIRN_ROOT_CANONICAL_ID: 'id-root',
        CAIRN_ROOT_DISPLAY_NAME: 'The Root',
        CAIRN_USERS_FILE: file,
      });
      expect(cfg.root).toEqual({
        accessKey: 'rootkey',
        secretKey: 'rootsecret',
        canonicalId: 'id-root',
        displayName: 'The Root',
      });
      expect(cfg.users).toEqual([
        { accessKey: 'u1', secretKey: 'secret-u1', canonicalId: 'id-u1', displayName: 'U One' },
        { accessKey: 'u2', secretKey: 'secret-u2' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
