// `cairn gateway s3`: versioning is the backend's, passed through. PutBucketVersioning reaches the backend,
// version ids are the backend's on PUT, GET, HEAD, DELETE, and ListObjectVersions is its listing, delete
// markers included; Cairn's policies decide per resource (s3:GetObjectVersion, s3:DeleteObjectVersion,
// s3:ListBucketVersions, s3:PutBucketVersioning) as on the direct server. PutObjectAcl keeps the ACL in the
// gateway's state folder: the backend's object (its modification time, its versions) stays as it was.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, s3Error, type TestServer } from '../helpers/cairn.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';

let backend: TestServer;
let gw: S3Gateway;
let s3: S3Client;
let be: S3Client;
/** The gateway's state folder, kept across its restart. */
let stateDir: string;

const text = async (p: Promise<{ Body?: { transformToString(): Promise<string> } }>) =>
  (await p).Body!.transformToString();

async function enable(bucket: string, client = s3): Promise<void> {
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

beforeAll(async () => {
  backend = await startBackend();
  be = backendClient(backend);
  stateDir = await mkdtemp(join(tmpdir(), 'cairn-s3gw-ver-'));
  gw = await startS3Gateway(backend.url, { stateDir });
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('versioning passed through to the backend', () => {
  it('PutBucketVersioning reaches the backend; versions, delete markers and listings are the backend’s', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'ver' }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver' }))).Status).toBeUndefined();
    // A configuration the schema refuses changes nothing, on the backend either.
    const bogus = new PutBucketVersioningCommand({
      Bucket: 'ver',
      VersioningConfiguration: { Status: 'Bogus' as 'Enabled' },
    });
    expect(await s3Error(s3.send(bogus))).toEqual({ name: 'MalformedXML', status: 400 });
    expect((await be.send(new GetBucketVersioningCommand({ Bucket: 'ver' }))).Status).toBeUndefined();
    await enable('ver');
    expect((await be.send(new GetBucketVersioningCommand({ Bucket: 'ver' }))).Status).toBe('Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver' }))).Status).toBe('Enabled');

    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: 'two' }))).VersionId!;
    expect(v1).not.toBe(v2);
    // The ids are the backend's own.
    expect(await text(be.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: v1 })))).toBe('one');
    expect(await text(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: v1 })))).toBe('one');
    expect(await text(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k' })))).toBe('two');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: v1 }));
    expect([head.VersionId, head.ContentLength]).toEqual([v1, 3]);
    const ranged = s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: v1, Range: 'bytes=1-' }));
    expect(await text(ranged)).toBe('ne');
    // A version the backend does not have: its answer, as the backend gives it directly.
    const missing = new GetObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: 'nosuchversion' });
    expect(await s3Error(s3.send(missing))).toEqual(await s3Error(be.send(missing)));

    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    const marker = del.VersionId!;
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'ver', Key: 'k' })))).status).toBe(404);
    const named = s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: marker }));
    expect(await s3Error(named)).toEqual({ name: 'MethodNotAllowed', status: 405 });
    expect(await text(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: v2 })))).toBe('two');

    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver' }));
    expect(list.Versions!.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [v2, false],
      [v1, false],
    ]);
    expect(list.DeleteMarkers!.map((v) => [v.VersionId, v.IsLatest])).toEqual([[marker, true]]);
    // Pages of one, by key and version id marker, as the backend pages them.
    const seen: string[] = [];
    let page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ver', MaxKeys: 1 }));
    for (;;) {
      for (const v of [...(page.DeleteMarkers ?? []), ...(page.Versions ?? [])]) seen.push(v.VersionId!);
      if (!page.IsTruncated) break;
      page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: 'ver',
          MaxKeys: 1,
          KeyMarker: page.NextKeyMarker,
          VersionIdMarker: page.NextVersionIdMarker,
        }),
      );
    }
    expect(seen).toEqual([marker, v2, v1]);

    // A conditional PUT sees no object under a delete marker (as the server answers).
    const ifMatch = new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: 'x', IfMatch: '"bad"' });
    expect(await s3Error(s3.send(ifMatch))).toEqual({ name: 'NoSuchKey', status: 404 });

    // Removing the marker brings v2 back; removing v1 removes it from the backend.
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: marker }));
    expect(await text(s3.send(new GetObjectCommand({ Bucket: 'ver', Key: 'k' })))).toBe('two');
    await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: v1 }));
    const gone = new HeadObjectCommand({ Bucket: 'ver', Key: 'k', VersionId: v1 });
    expect((await s3Error(be.send(gone))).status).toBe(404);
  });

  it('a suspended bucket writes the null version, and versionId=null reads it when it is not the latest', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'susp' }));
    await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'plain' }));
    await enable('susp');
    const v = (await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'versioned' }))).VersionId!;
    const nullRead = s3.send(new GetObjectCommand({ Bucket: 'susp', Key: 'k', VersionId: 'null' }));
    expect(await text(nullRead)).toBe('plain');
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Suspended' } }));
    expect((await be.send(new GetBucketVersioningCommand({ Bucket: 'susp' }))).Status).toBe('Suspended');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'again' }));
    expect(put.VersionId ?? 'null').toBe('null');
    // The null version was replaced; the versioned one stays. Deleting the null version by name leaves v latest.
    const ids = (await s3.send(new ListObjectVersionsCommand({ Bucket: 'susp' }))).Versions!.map((x) => x.VersionId);
    expect(ids.sort()).toEqual(['null', v].sort());
    await s3.send(new DeleteObjectCommand({ Bucket: 'susp', Key: 'k', VersionId: 'null' }));
    expect(await text(s3.send(new GetObjectCommand({ Bucket: 'susp', Key: 'k' })))).toBe('versioned');
  });

  it('Cairn’s policies decide per version resource; a refused request changes nothing on the backend', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pol' }));
    await enable('pol');
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'pol', Key: 'k', Body: 'one' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'pol', Key: 'k', Body: 'two' }));
    const allow = (Action: string[]) => ({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ['*'] }, Action, Resource: ['arn:aws:s3:::pol', 'arn:aws:s3:::pol/*'] },
      ],
    });
    // Objects, not versions.
    const plain = allow(['s3:GetObject', 's3:ListBucket', 's3:DeleteObject', 's3:GetBucketVersioning']);
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: JSON.stringify(plain) }));
    const alt = gw.client({ credentials: ALT });
    expect(await text(alt.send(new GetObjectCommand({ Bucket: 'pol', Key: 'k' })))).toBe('two');
    const denied = { name: 'AccessDenied', status: 403 };
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: 'pol', Key: 'k', VersionId: v1 })))).toEqual(denied);
    expect(await s3Error(alt.send(new ListObjectVersionsCommand({ Bucket: 'pol' })))).toEqual(denied);
    expect(await s3Error(alt.send(new DeleteObjectCommand({ Bucket: 'pol', Key: 'k', VersionId: v1 })))).toEqual(
      denied,
    );
    const suspend = new PutBucketVersioningCommand({ Bucket: 'pol', VersioningConfiguration: { Status: 'Suspended' } });
    expect(await s3Error(alt.send(suspend))).toEqual(denied);
    expect((await be.send(new GetBucketVersioningCommand({ Bucket: 'pol' }))).Status).toBe('Enabled');
    expect(await text(be.send(new GetObjectCommand({ Bucket: 'pol', Key: 'k', VersionId: v1 })))).toBe('one');
    // Allowed the version actions, the same requests go through.
    const versions = allow(['s3:GetObjectVersion', 's3:ListBucketVersions', 's3:DeleteObjectVersion']);
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: JSON.stringify(versions) }));
    expect(await text(alt.send(new GetObjectCommand({ Bucket: 'pol', Key: 'k', VersionId: v1 })))).toBe('one');
    expect((await alt.send(new ListObjectVersionsCommand({ Bucket: 'pol' }))).Versions).toHaveLength(2);
    await alt.send(new DeleteObjectCommand({ Bucket: 'pol', Key: 'k', VersionId: v1 }));
    expect((await be.send(new ListObjectVersionsCommand({ Bucket: 'pol' }))).Versions).toHaveLength(1);
  });
});

describe('object ACLs kept in the state folder', () => {
  const grants = async (c: S3Client, Key: string, VersionId?: string) =>
    (await c.send(new GetObjectAclCommand({ Bucket: 'acl', Key, VersionId }))).Grants!.map(
      (g) => `${g.Grantee?.URI ?? g.Grantee?.ID}:${g.Permission}`,
    );
  const PUBLIC = 'http://acs.amazonaws.com/groups/global/AllUsers:READ';

  it('PutObjectAcl on a version: no new version, the same modification time, the backend’s object untouched', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'acl' }));
    await enable('acl');
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'acl', Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'acl', Key: 'k', Body: 'two' }))).VersionId!;
    const before = await be.send(new HeadObjectCommand({ Bucket: 'acl', Key: 'k', VersionId: v1 }));
    await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'k', VersionId: v1, ACL: 'public-read' }));
    expect(await grants(s3, 'k', v1)).toContain(PUBLIC);
    expect(await grants(s3, 'k', v2)).not.toContain(PUBLIC);
    expect(await grants(s3, 'k')).not.toContain(PUBLIC);
    const listed = await be.send(new ListObjectVersionsCommand({ Bucket: 'acl' }));
    expect(listed.Versions!.map((v) => v.VersionId)).toEqual([v2, v1]);
    const after = await be.send(new HeadObjectCommand({ Bucket: 'acl', Key: 'k', VersionId: v1 }));
    expect([after.LastModified, after.ETag, after.Metadata]).toEqual([before.LastModified, before.ETag, {}]);
    // The ACL is Cairn's to apply: anyone may read v1 now, not v2.
    const anonymous = await fetch(`${gw.url}/acl/k?versionId=${encodeURIComponent(v1)}`);
    expect([anonymous.status, await anonymous.text()]).toEqual([200, 'one']);
    expect((await fetch(`${gw.url}/acl/k`)).status).toBe(403);

    // It stays across a restart (the state folder), and goes with the version.
    await gw.close();
    gw = await startS3Gateway(backend.url, { stateDir });
    s3 = gw.client();
    expect(await grants(s3, 'k', v1)).toContain(PUBLIC);
    await s3.send(new DeleteObjectCommand({ Bucket: 'acl', Key: 'k', VersionId: v1 }));
    expect(await s3Error(s3.send(new GetObjectAclCommand({ Bucket: 'acl', Key: 'k', VersionId: v1 })))).toMatchObject({
      status: 404,
    });
  });

  it('an object replaced, through the gateway or on the backend, does not keep the ACL of the one before', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'acl', VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'acl', Key: 'n', Body: 'a' }));
    await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'n', ACL: 'public-read' }));
    expect(await grants(s3, 'n')).toContain(PUBLIC);
    await s3.send(new PutObjectCommand({ Bucket: 'acl', Key: 'n', Body: 'a' })); // the same bytes, replaced
    expect(await grants(s3, 'n')).not.toContain(PUBLIC);

    await s3.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'n', ACL: 'public-read' }));
    expect(await grants(s3, 'n')).toContain(PUBLIC);
    await be.send(new PutObjectCommand({ Bucket: 'acl', Key: 'n', Body: 'b' })); // behind the gateway's back
    expect(await grants(s3, 'n')).not.toContain(PUBLIC);
    // An ACL given with the PUT itself goes with the object to the backend.
    await s3.send(new PutObjectCommand({ Bucket: 'acl', Key: 'n', Body: 'c', ACL: 'public-read' }));
    expect(await grants(s3, 'n')).toContain(PUBLIC);
  });
});
