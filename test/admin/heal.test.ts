// Heal sequences through MinIO's admin API (api/admin/heal.ts) on a real server: an object whose copy on one
// drive was removed is healed by a sequence on its prefix (and only that prefix), the status counts every key
// and names what was repaired; the token protocol's errors; `cairn admin heal` follows a sequence to its end.
import { execFile } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { objectDir } from '../../server/src/storage/meta/key-path.js';
import { ALT, ROOT, startWithBucket, type TestSetup } from '../helpers/cairn.js';

const BUCKET = 'heal-data';
let setup: TestSetup;
let root: AdminTarget;
const onDrive = (d: number, key: string) => join(setup.server.drives[d], BUCKET, objectDir(key));
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

interface Status {
  summary: string;
  total: number;
  scanned: number;
  healed: number;
  failed: number;
  items: { resultId: number; object: string; detail: string }[];
}

/** Polls a sequence until it ends; every item it gave. */
async function follow(path: string, token: string): Promise<{ last: Status; items: Status['items'] }> {
  const items: Status['items'] = [];
  for (;;) {
    const s = (await adminCall(root, { method: 'POST', path, query: { clientToken: token } })) as Status;
    items.push(...s.items);
    if (s.summary !== 'running') return { last: s, items };
  }
}

beforeAll(async () => {
  setup = await startWithBucket(BUCKET);
  root = { endpoint: setup.server.url, region: 'us-east-1', ...ROOT };
  for (let i = 0; i < 12; i++)
    await setup.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `p/k${i}`, Body: `value ${i}` }));
  for (const k of ['q/a', 'q/b']) await setup.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: 'q' }));
});
afterAll(async () => setup.server.close());

describe('heal sequences', () => {
  it('repair what a drive lost under the prefix, counting every key', async () => {
    await rm(onDrive(1, 'p/k3'), { recursive: true });
    await rm(onDrive(1, 'q/a'), { recursive: true });
    const body = { recursive: true, dryRun: false, remove: false, recreate: false, scanMode: 1 };
    const start = (await adminCall(root, { method: 'POST', path: `heal/${BUCKET}/p/`, body })) as {
      clientToken: string;
      startTime: string;
    };
    expect(start.clientToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(start.startTime)).not.toBeNaN();
    const { last, items } = await follow(`heal/${BUCKET}/p/`, start.clientToken);
    expect(last).toMatchObject({ summary: 'finished', total: 12, scanned: 12, healed: 1, failed: 0 });
    expect(items.map((i) => i.resultId)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(items.filter((i) => i.detail !== 'ok')).toEqual([
      expect.objectContaining({ object: 'p/k3', detail: 'healed', type: 'object', bucket: BUCKET }),
    ]);
    expect(await exists(onDrive(1, 'p/k3'))).toBe(true);
    expect(await exists(onDrive(1, 'q/a'))).toBe(false); // outside the prefix
  });

  it('cairn admin heal follows a sequence to its end and names what it repaired', async () => {
    const env = {
      ...process.env,
      CAIRN_ENDPOINT: setup.server.url,
      CAIRN_ROOT_USER: ROOT.accessKey,
      CAIRN_ROOT_PASSWORD: ROOT.secretKey,
    };
    const repo = join(import.meta.dirname, '..', '..');
    const argv = ['--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts', 'admin', 'heal', `${BUCKET}/q`];
    const r = await promisify(execFile)(process.execPath, argv, { env, cwd: repo });
    expect(r.stdout).toContain('heal finished: 2 of 2 objects checked, 1 healed, 0 failed');
    expect(r.stdout).toMatch(/^heal-data\s+q\/a\s+healed$/m);
    expect(await exists(onDrive(1, 'q/a'))).toBe(true);
  });

  it('is behind admin:Heal, and refuses what it cannot do', async () => {
    const alt = { ...root, ...ALT };
    expect(await outcome(adminCall(alt, { method: 'POST', path: `heal/${BUCKET}/`, body: {} }))).toMatch(
      /403 AccessDenied/,
    );
    expect(
      await outcome(adminCall(root, { method: 'POST', path: `heal/${BUCKET}/`, query: { clientToken: 'nope' } })),
    ).toMatch(/400 XMinioHealInvalidClientToken/);
    expect(
      await outcome(adminCall(root, { method: 'POST', path: `heal/${BUCKET}/`, query: { forceStop: 'true' } })),
    ).toMatch(/400 XMinioHealNoSuchProcess/);
    expect(await outcome(adminCall(root, { method: 'POST', path: `heal/${BUCKET}/`, body: { dryRun: true } }))).toMatch(
      /501 NotImplemented/,
    );
    expect(await outcome(adminCall(root, { method: 'POST', path: 'heal/no-such-bucket/', body: {} }))).toMatch(
      /404 NoSuchBucket/,
    );
    expect(await outcome(adminCall(root, { method: 'GET', path: `heal/${BUCKET}/` }))).toMatch(/405/);
  });
});
