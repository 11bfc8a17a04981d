// `cairn gateway s3 URL` as a child process in front of a backend Cairn: serves the backend's objects to the
// gateway's own users on port 0 and stops on SIGTERM; a command line without what it needs exits 2 with why.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseS3Args } from '../../server/src/cli/gateway.js';
import { makeClient, type TestServer } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';
import { BACKEND_ROOT, backendClient, startBackend } from '../helpers/s3gw.js';

const creds = { accessKey: 'gwadmin', secretKey: 'gw-admin-secret' };
let base: string;
let backend: TestServer;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-s3gw-cli-'));
  backend = await startBackend();
});
afterAll(async () => {
  await backend?.close();
  await rm(base, { recursive: true, force: true });
});

it('serves the backend given, and stops on SIGTERM', async () => {
  const be = backendClient(backend);
  await be.send(new CreateBucketCommand({ Bucket: 'reports' }));
  await be.send(new PutObjectCommand({ Bucket: 'reports', Key: 'q1.csv', Body: 'a,b\n1,2\n' }));
  const child = spawnCairn(['gateway', 's3', '--address', '127.0.0.1:0', backend.url], {
    CAIRN_ROOT_USER: creds.accessKey,
    CAIRN_ROOT_PASSWORD: creds.secretKey,
    CAIRN_GATEWAY_ACCESS_KEY: BACKEND_ROOT.accessKey,
    CAIRN_GATEWAY_SECRET_KEY: BACKEND_ROOT.secretKey,
    CAIRN_GATEWAY_STATE_DIR: join(base, 'state'),
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

it('the command line needs one URL, the backend credentials, a state folder and one worker', () => {
  const env = {
    CAIRN_GATEWAY_ACCESS_KEY: 'k',
    CAIRN_GATEWAY_SECRET_KEY: 's',
    CAIRN_GATEWAY_STATE_DIR: '/tmp/state',
  };
  const ok = parseS3Args(['--address', '127.0.0.1:0', 'http://backend:9000'], env);
  expect(ok.backend).toEqual({
    url: 'http://backend:9000',
    accessKey: 'k',
    secretKey: 's',
    region: undefined,
    stateDir: '/tmp/state',
    splice: 'auto',
  });
  for (const mode of ['auto', 'on', 'off'])
    expect(parseS3Args(['http://a:1'], { ...env, CAIRN_GATEWAY_SPLICE: mode }).backend?.splice).toBe(mode);
  for (const bad of ['yes', 'true', 'ON'])
    expect(() => parseS3Args(['http://a:1'], { ...env, CAIRN_GATEWAY_SPLICE: bad })).toThrow(
      /SPLICE must be auto, on or off/,
    );
  expect(() => parseS3Args([], env)).toThrow(/one URL/);
  expect(() => parseS3Args(['/some/folder'], env)).toThrow(/not an http/);
  expect(() => parseS3Args(['http://a:1', 'http://b:2'], env)).toThrow(/one URL/);
  expect(() => parseS3Args(['--workers', '2', 'http://a:1'], env)).toThrow(/one process/);
  expect(() => parseS3Args(['http://a:1'], { ...env, CAIRN_GATEWAY_SECRET_KEY: '' })).toThrow(/CAIRN_GATEWAY_/);
  expect(() => parseS3Args(['http://a:1'], { ...env, CAIRN_GATEWAY_STATE_DIR: undefined })).toThrow(/STATE_DIR/);
});

it('without the backend credentials it exits 2 with the reason', async () => {
  const child = spawnCairn(['gateway', 's3', 'http://127.0.0.1:9'], { CAIRN_GATEWAY_STATE_DIR: join(base, 'x') });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  expect(code).toBe(2);
  expect(stderr).toMatch(/CAIRN_GATEWAY_ACCESS_KEY and CAIRN_GATEWAY_SECRET_KEY/);
});
