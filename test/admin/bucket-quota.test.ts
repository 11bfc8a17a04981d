// Bucket quota (api/quota.ts) against a real server: MinIO's set-bucket-quota / get-bucket-quota calls behind
// admin:SetBucketQuota / admin:GetBucketQuota, bad bodies refused with nothing stored, and every write path
// (PutObject, CopyObject, POST form, UploadPart, UploadPartCopy) refused with XMinioAdminBucketQuotaExceeded
// when it would take the bucket over its quota, storing nothing.
import { createHmac } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, ROOT, s3Error, startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';

let setup: TestSetup;
let root: AdminTarget;

/** The admin error a call fails with (`path: status Code: message`), or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

const setQuota = (bucket: string, body: unknown, t: AdminTarget = root) =>
  adminCall(t, { method: 'PUT', path: 'set-bucket-quota', query: { bucket }, body });
const getQuota = (bucket: string, t: AdminTarget = root) =>
  adminCall(t, { method: 'GET', path: 'get-bucket-quota', query: { bucket } }) as Promise<Record<string, unknown>>;

const bytes = (n: number) => Buffer.alloc(n, 7);
const exists = (Bucket: string, Key: string) =>
  setup.s3.send(new HeadObjectCommand({ Bucket, Key })).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  setup = await startWithBucket('quota-admin');
  root = { endpoint: setup.server.url, region: 'us-east-1', ...ROOT };
});
afterAll(() => setup?.server.close());

describe('set-bucket-quota and get-bucket-quota', () => {
  it('sets, reads back with the usage and clears a hard quota', async () => {
    expect(await getQuota('quota-admin')).toEqual({ quota: 0, size: 0, quotatype: 'hard', cairn: { usage: 0 } });
    await setup.s3.send(new PutObjectCommand({ Bucket: 'quota-admin', Key: 'a', Body: bytes(100) }));
    await setQuota('quota-admin', { quota: 5000, quotatype: 'hard' });
    expect(await getQuota('quota-admin')).toEqual({ quota: 5000, size: 0, quotatype: 'hard', cairn: { usage: 100 } });
    await setQuota('quota-admin', { size: 7000, quotatype: 'hard' });
    expect(await getQuota('quota-admin')).toMatchObject({ quota: 0, size: 7000 });
    await setQuota('quota-admin', { quota: 0 });
    expect(await getQuota('quota-admin')).toMatchObject({ quota: 0, size: 0 });
  });

  it('refuses bad bodies, other users and missing buckets, and keeps the quota as it was', async () => {
    await setQuota('quota-admin', { quota: 4000, quotatype: 'hard' });
    const bad: [unknown, RegExp][] = [
      [{ quota: 10, quotatype: 'fifo' }, /400 XMinioAdminInvalidArgument/],
      [{ quota: 10 }, /400 XMinioAdminInvalidArgument/],
      [{ quota: -1, quotatype: 'hard' }, /400 XMinioAdminInvalidArgument/],
      [{ quota: 1.5, quotatype: 'hard' }, /400 XMinioAdminInvalidArgument/],
      [{ quota: '10', quotatype: 'hard' }, /400 XMinioAdminInvalidArgument/],
      [{ quota: 2 ** 60, quotatype: 'hard' }, /400 XMinioAdminInvalidArgument/],
      [{ quota: 10, quotatype: 'hard', extra: 1 }, /400 XMinioAdminInvalidArgument/],
      [{ quota: 10, quotatype: 'hard', rate: 5 }, /501 NotImplemented/],
      [[10], /400 XMinioAdminInvalidArgument/],
      ['not json', /400 XMinioAdminInvalidArgument/],
    ];
    for (const [body, code] of bad) expect(await outcome(setQuota('quota-admin', body))).toMatch(code);
    const alt = { ...root, ...ALT };
    expect(await outcome(setQuota('quota-admin', { quota: 0 }, alt))).toMatch(/403 AccessDenied/);
    expect(await outcome(getQuota('quota-admin', alt))).toMatch(/403 AccessDenied/);
    expect(await outcome(setQuota('no-such-quota-bucket', { quota: 9, quotatype: 'hard' }))).toMatch(
      /404 NoSuchBucket/,
    );
    expect(
      await outcome(adminCall(root, { method: 'POST', path: 'set-bucket-quota', query: { bucket: 'quota-admin' } })),
    ).toMatch(/405 MethodNotAllowed/);
    expect(await getQuota('quota-admin')).toMatchObject({ quota: 4000, size: 0, quotatype: 'hard' });
    await setQuota('quota-admin', { quota: 0 });
  });
});

describe('writes over a hard quota', () => {
  const B = 'quota-writes';
  const SRC = 'quota-source';

  beforeAll(async () => {
    await setup.s3.send(new CreateBucketCommand({ Bucket: B }));
    await setup.s3.send(new CreateBucketCommand({ Bucket: SRC }));
    await setup.s3.send(new PutObjectCommand({ Bucket: SRC, Key: 'big', Body: bytes(3000) }));
    await setQuota(B, { quota: 10_000, quotatype: 'hard' });
  });

  it('PutObject: fills the bucket to its quota exactly, then refuses and stores nothing', async () => {
    await setup.s3.send(new PutObjectCommand({ Bucket: B, Key: 'one', Body: bytes(6000) }));
    expect(await s3Error(setup.s3.send(new PutObjectCommand({ Bucket: B, Key: 'two', Body: bytes(5000) })))).toEqual({
      name: 'XMinioAdminBucketQuotaExceeded',
      status: 400,
    });
    expect(await exists(B, 'two')).toBe(false);
    await setup.s3.send(new PutObjectCommand({ Bucket: B, Key: 'two', Body: bytes(3000) }));
    expect((await getQuota(B)).cairn).toEqual({ usage: 9000 });
  });

  it('CopyObject, POST form, UploadPart and UploadPartCopy are refused and store nothing', async () => {
    // 9000 of 10000 used: 3000 more does not fit.
    const copy = setup.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied', CopySource: `${SRC}/big` }));
    expect(await s3Error(copy)).toEqual({ name: 'XMinioAdminBucketQuotaExceeded', status: 400 });
    expect(await exists(B, 'copied')).toBe(false);

    const form = await postForm(B, 'posted', bytes(3000));
    expect(form.status).toBe(400);
    expect(form.body).toContain('<Code>XMinioAdminBucketQuotaExceeded</Code>');
    expect(await exists(B, 'posted')).toBe(false);

    const { UploadId } = await setup.s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'parts' }));
    const part = setup.s3.send(
      new UploadPartCommand({ Bucket: B, Key: 'parts', UploadId, PartNumber: 1, Body: bytes(3000) }),
    );
    expect(await s3Error(part)).toEqual({ name: 'XMinioAdminBucketQuotaExceeded', status: 400 });
    const partCopy = setup.s3.send(
      new UploadPartCopyCommand({ Bucket: B, Key: 'parts', UploadId, PartNumber: 2, CopySource: `${SRC}/big` }),
    );
    expect(await s3Error(partCopy)).toEqual({ name: 'XMinioAdminBucketQuotaExceeded', status: 400 });
    const parts = await setup.s3.send(new ListPartsCommand({ Bucket: B, Key: 'parts', UploadId }));
    expect(parts.Parts ?? []).toEqual([]);

    // What fits still goes in (a form of unknown size is checked at its end), and the usage counts it.
    expect((await postForm(B, 'small', bytes(500))).status).toBe(204);
    expect(await exists(B, 'small')).toBe(true);
    expect((await getQuota(B)).cairn).toEqual({ usage: 9500 });
  });

  it('a cleared quota lets the writes through', async () => {
    await setQuota(B, { quota: 0, quotatype: 'hard' });
    await setup.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied', CopySource: `${SRC}/big` }));
    expect(await exists(B, 'copied')).toBe(true);
  });
});

describe('cairn admin quota', () => {
  const run = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const env = {
        CAIRN_ENDPOINT: setup.server.url,
        CAIRN_ROOT_USER: ROOT.accessKey,
        CAIRN_ROOT_PASSWORD: ROOT.secretKey,
      };
      const p = spawnCairn(['admin', ...args], env);
      let out = '';
      let err = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (err += d));
      p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    });

  it('sets, shows (table and --json) and clears a quota; refuses a bad size without calling', async () => {
    await setup.s3.send(new CreateBucketCommand({ Bucket: 'quota-cli' }));
    await setup.s3.send(new PutObjectCommand({ Bucket: 'quota-cli', Key: 'k', Body: bytes(1024) }));
    expect((await run('quota', 'set', 'quota-cli', '4KiB')).out).toContain('hard quota of 4096 bytes');
    expect((await run('quota', 'info', 'quota-cli')).out).toMatch(/quota-cli\s+4096\s+hard\s+1024\s+25\.0%/);
    const json = JSON.parse((await run('--json', 'quota', 'info', 'quota-cli')).out) as Record<string, unknown>;
    expect(json).toEqual({ quota: 0, size: 4096, quotatype: 'hard', cairn: { usage: 1024 } });
    const bad = await run('quota', 'set', 'quota-cli', '4 apples');
    expect([bad.code, bad.err]).toEqual([1, expect.stringContaining('not a size')]);
    expect(await getQuota('quota-cli')).toMatchObject({ size: 4096 });
    expect((await run('quota', 'clear', 'quota-cli')).out).toContain('quota cleared');
    expect((await run('quota', 'info', 'quota-cli')).out).toMatch(/quota-cli\s+none\s+1024/);
  }, 300_000); // six `cairn` processes started from the sources: slow on a loaded machine
});

const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();

/** A POST policy form upload signed by root (SigV4), as a browser sends it. */
async function postForm(bucket: string, key: string, file: Buffer): Promise<{ status: number; body: string }> {
  const now = new Date();
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const credential = `${ROOT.accessKey}/${date}/us-east-1/s3/aws4_request`;
  const fields: Record<string, string> = {
    key,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': `${date}T000000Z`,
  };
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(now.getTime() + 600_000).toISOString(),
      conditions: [
        { bucket },
        { key },
        ...Object.entries(fields)
          .filter(([k]) => k !== 'key')
          .map(([k, v]) => ({ [k]: v })),
      ],
    }),
  ).toString('base64');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${ROOT.secretKey}`, date), 'us-east-1'), 's3'), 'aws4_request');
  const form = new FormData();
  for (const [k, v] of Object.entries({
    ...fields,
    policy,
    'x-amz-signature': hmac(signingKey, policy).toString('hex'),
  }))
    form.append(k, v);
  form.append('file', new Blob([file]), 'upload.bin');
  const r = await fetch(`${setup.server.url}/${bucket}`, { method: 'POST', body: form });
  return { status: r.status, body: await r.text() };
}
