// `cairn gateway nas`: no request reaches outside the served folder (`..`, absolute keys, symlinks out of a
// bucket, into another bucket or into the hidden area), keys no file can have get S3's errors, what a folder
// of plain files cannot do is refused (NotImplemented), and a refused request leaves the folder as it was.
// Auth, IAM and policies are the server's, IAM's state in the hidden area; S3 Select reads the files.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, GetUserCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, makeClient, s3Error } from '../helpers/cairn.js';
import { type NasGateway, startNasGateway } from '../helpers/nas.js';
import { type RawRequest, signRequest } from '../helpers/signed-request.js';
import { iamClient } from '../iam/helpers.js';

let gw: NasGateway;
let s3: S3Client;
let outside: string;
let root: string;

/** Every path under `dir` (folders end in /), the hidden area left out: what a refused request must not change. */
async function tree(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (relative(base, p) === '.cairn.sys') continue;
    if (e.isDirectory()) out.push(`${relative(base, p)}/`, ...(await tree(p, base)));
    else out.push(relative(base, p));
  }
  return out.sort();
}

/** The folder (and the world outside it) is as it was, and no temp file is left. */
async function unchanged(before: { inside: string[]; outside: string[] }): Promise<void> {
  expect(await tree(root)).toEqual(before.inside);
  expect(await tree(outside)).toEqual(before.outside);
  expect(await readdir(join(root, '.cairn.sys/tmp'))).toEqual([]);
}

/** A signed request sent as written (fetch would resolve `%2E%2E` segments before sending). */
async function rawRequest(r: RawRequest): Promise<{ status: number; text: string }> {
  // Signed as S3 canonicalizes the path (a decoded `.` is not encoded again), sent encoded.
  const { headers } = await signRequest(gw.url, { ...r, path: r.path.replace(/%2E/g, '.') });
  const target = r.path;
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${target}`, { method: r.method, headers, path: target }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

const snapshot = async () => ({ inside: await tree(root), outside: await tree(outside) });

beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'cairn-nas-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'outside secret');
  root = await mkdtemp(join(tmpdir(), 'cairn-nas-root-'));
  await mkdir(join(root, 'data/folder'), { recursive: true });
  await mkdir(join(root, 'other'));
  await writeFile(join(root, 'data/a.txt'), 'inside');
  await writeFile(join(root, 'data/folder/f.txt'), 'f');
  await writeFile(join(root, 'other/private.txt'), 'other bucket');
  await writeFile(join(root, 'data/people.csv'), 'name,city,age\nann,Oslo,34\nbob,Lima,27\ncid,Oslo,51\n');
  gw = await startNasGateway({ root, sseCOverLoopbackHttp: true });
  // Links made after the start, as someone with a shell on the NAS would.
  await symlink(join(outside, 'secret.txt'), join(root, 'data/out-file'));
  await symlink(outside, join(root, 'data/out-dir'));
  await symlink(join(outside, 'not-yet'), join(root, 'data/dangling'));
  await symlink(join(root, '.cairn.sys'), join(root, 'data/sys'));
  await symlink(join(root, 'other/private.txt'), join(root, 'data/other-file'));
  await symlink(join(root, 'data/a.txt'), join(root, 'data/same-bucket-link'));
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('no escape from the folder', () => {
  it('.. and absolute keys are refused, through the SDK and encoded in a raw request', async () => {
    const before = await snapshot();
    for (const Key of ['../escape', 'x/../../escape', '/abs', './a.txt']) {
      const e = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: 'no' })));
      expect([Key, e.status]).toEqual([Key, 400]);
    }
    for (const path of ['/data/%2E%2E/%2E%2E/escape-raw', '/data/%2E%2E/other/private.txt', '/data/x%2F..%2F..%2Fe']) {
      const put = await rawRequest({ method: 'PUT', path, body: 'no' });
      expect([path, put.status]).toEqual([path, 400]);
      expect(put.text).toContain('InvalidArgument');
      const get = await rawRequest({ method: 'GET', path });
      expect(get.text).not.toContain('other bucket');
      expect(get.status).toBe(400);
    }
    await unchanged(before);
  });

  it('symlinks out of the bucket (outside, another bucket, the hidden area) are AccessDenied; inside, followed', async () => {
    const before = await snapshot();
    for (const Key of ['out-file', 'out-dir/secret.txt', 'sys/gateway.json', 'other-file']) {
      expect([Key, await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key })))]).toEqual([
        Key,
        { name: 'AccessDenied', status: 403 },
      ]);
    }
    for (const Key of ['out-dir/planted', 'dangling/planted', 'sys/planted', 'sys/tmp/planted']) {
      expect([Key, await s3Error(s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: 'x' })))]).toEqual([
        Key,
        { name: 'AccessDenied', status: 403 },
      ]);
    }
    const same = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'same-bucket-link' }));
    expect(await same.Body!.transformToString()).toBe('inside');
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'data' }))).Contents!.map((o) => o.Key);
    expect(keys).toEqual(['a.txt', 'folder/f.txt', 'people.csv', 'same-bucket-link']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('outside secret');
    await unchanged(before);
  });

  it('the hidden area is no bucket and no request names it', async () => {
    const e = await s3Error(s3.send(new ListObjectsV2Command({ Bucket: '.cairn.sys' })));
    expect(['InvalidBucketName', 'NoSuchBucket']).toContain(e.name);
    const raw = await rawRequest({ method: 'GET', path: '/.cairn.sys/gateway.json' });
    expect(raw.status).toBeGreaterThanOrEqual(400);
    expect(raw.text).not.toContain('deploymentId');
  });
});

describe('keys that cannot be files', () => {
  it('get S3 errors and store nothing', async () => {
    const before = await snapshot();
    const cases: [string, string][] = [
      ['dir/', 'InvalidArgument'],
      ['a//b', 'InvalidArgument'],
      [`${'n'.repeat(300)}.txt`, 'KeyTooLongError'],
      ['a.txt/below', 'XMinioParentIsObject'],
      ['folder', 'XMinioObjectExistsAsDirectory'],
      ['nul\u0000name', 'XMinioInvalidObjectName'],
    ];
    for (const [Key, code] of cases) {
      const e = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: 'x' })));
      expect([Key.slice(0, 20), e]).toEqual([Key.slice(0, 20), { name: code, status: 400 }]);
    }
    await unchanged(before);
    expect(await readFile(join(root, 'data/a.txt'), 'utf8')).toBe('inside');
  });
});

describe('what a folder of plain files cannot do is refused', () => {
  it('versioning, object lock, lifecycle, default encryption, SSE-C: NotImplemented, nothing changed', async () => {
    const before = await snapshot();
    const versioning = new PutBucketVersioningCommand({
      Bucket: 'data',
      VersioningConfiguration: { Status: 'Enabled' },
    });
    expect(await s3Error(s3.send(versioning))).toEqual({ name: 'NotImplemented', status: 501 });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'data' }))).Status).toBeUndefined();
    const locked = new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true });
    expect(await s3Error(s3.send(locked))).toEqual({ name: 'NotImplemented', status: 501 });
    const lifecycle = new PutBucketLifecycleConfigurationCommand({
      Bucket: 'data',
      LifecycleConfiguration: {
        Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }],
      },
    });
    expect(await s3Error(s3.send(lifecycle))).toEqual({ name: 'NotImplemented', status: 501 });
    const encryption = new PutBucketEncryptionCommand({
      Bucket: 'data',
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    expect((await s3Error(s3.send(encryption))).status).toBe(501);
    const key = Buffer.alloc(32, 9);
    const sseC = new PutObjectCommand({
      Bucket: 'data',
      Key: 'sealed.txt',
      Body: 'secret',
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: key.toString('base64'),
    });
    expect(await s3Error(s3.send(sseC))).toEqual({ name: 'NotImplemented', status: 501 });
    await unchanged(before);
  });
});

describe('auth, IAM and policies as in the server', () => {
  it('another user needs a policy; IAM users live in the hidden area and survive a restart', async () => {
    const alt = makeClient(gw.url, { credentials: ALT });
    expect((await s3Error(alt.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.txt' })))).status).toBe(403);
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/a.txt' },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'data', Policy: JSON.stringify(policy) }));
    const got = await alt.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.txt' }));
    expect(await got.Body!.transformToString()).toBe('inside');
    expect((await s3Error(alt.send(new GetObjectCommand({ Bucket: 'data', Key: 'folder/f.txt' })))).status).toBe(403);

    const iam = iamClient(gw.url);
    await iam.send(new CreateUserCommand({ UserName: 'nas-user' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'nas-user' }))).AccessKey!;
    const user = makeClient(gw.url, { credentials: { accessKey: k.AccessKeyId!, secretKey: k.SecretAccessKey! } });
    expect((await s3Error(user.send(new GetObjectCommand({ Bucket: 'data', Key: 'folder/f.txt' })))).status).toBe(403);
    expect((await stat(join(root, '.cairn.sys/config'))).isDirectory()).toBe(true);
    expect(await tree(root)).not.toContain('config/');
    await gw.close();
    gw = await startNasGateway({ root, sseCOverLoopbackHttp: true });
    s3 = gw.client();
    expect((await iamClient(gw.url).send(new GetUserCommand({ UserName: 'nas-user' }))).User?.UserName).toBe(
      'nas-user',
    );
    const again = makeClient(gw.url, { credentials: ALT });
    expect(
      await (await again.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.txt' }))).Body!.transformToString(),
    ).toBe('inside');
  });
});

describe('S3 Select over the files', () => {
  it('queries a CSV placed in the folder by hand', async () => {
    const res = await s3.send(
      new SelectObjectContentCommand({
        Bucket: 'data',
        Key: 'people.csv',
        ExpressionType: 'SQL',
        Expression: "SELECT s.name, s.age FROM S3Object s WHERE s.city = 'Oslo'",
        InputSerialization: { CSV: { FileHeaderInfo: 'USE' } },
        OutputSerialization: { CSV: {} },
      }),
    );
    let out = '';
    for await (const ev of res.Payload!) if (ev.Records?.Payload) out += Buffer.from(ev.Records.Payload).toString();
    expect(out).toBe('ann,34\ncid,51\n');
  });
});
