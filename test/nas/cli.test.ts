// `cairn gateway nas PATH` as a child process: serves a folder's files on port 0 and stops on SIGTERM; asked for
// several workers it exits 2 with the reason, touching nothing.
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeClient } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';

const creds = { accessKey: 'nasadmin', secretKey: 'nas-admin-secret' };
let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-nas-cli-'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

it('serves the folder given, and stops on SIGTERM', async () => {
  const root = join(base, 'share');
  await mkdir(join(root, 'reports'), { recursive: true });
  await writeFile(join(root, 'reports/q1.csv'), 'a,b\n1,2\n');
  const child = spawnCairn(['gateway', 'nas', '--address', '127.0.0.1:0', root], {
    CAIRN_ROOT_USER: creds.accessKey,
    CAIRN_ROOT_PASSWORD: creds.secretKey,
    CAIRN_LOG_LEVEL: 'info',
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as { url?: string };
      if (typeof line.url === 'string') resolve(line.url);
    });
    void exited.then(([code]) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  const s3 = makeClient(url, { credentials: creds });
  const got = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: 'q1.csv' }));
  expect(await got.Body!.transformToString()).toBe('a,b\n1,2\n');
  child.kill('SIGTERM');
  expect((await exited)[0]).toBe(0);
});

it('--workers 2 is refused with the reason, and the folder is left alone', async () => {
  const root = join(base, 'untouched');
  await mkdir(root);
  const child = spawnCairn(['gateway', 'nas', '--workers', '2', root]);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  expect(code).toBe(2);
  expect(stderr).toMatch(/runs as one process \(--workers 1, got 2\)/);
  expect(await readdir(root)).toEqual([]);
});
