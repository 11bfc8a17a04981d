// Server configuration applied without a restart (api/admin/config: `live` keys): a change of the stale-upload
// settings only is put into effect at once and its answer says x-minio-config-applied: true (MinIO's header; mc
// then says "applied" rather than asking for a restart); any other key (replication senders, region, identity,
// notify) waits for a restart and the answer does not say so. `cairn admin config` prints which.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, adminChange, adminText, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, makeClient, ROOT } from '../helpers/cairn.js';

let base: string;
let server: CairnServer;

const as = (): AdminTarget => ({ endpoint: server.url, region: 'us-east-1', ...ROOT });
const set = (body: string) => adminChange(as(), { method: 'PUT', path: 'set-config-kv', body, encrypt: true });
const reset = (body: string) => adminChange(as(), { method: 'DELETE', path: 'del-config-kv', body, encrypt: true });
const full = () => adminText(as(), { method: 'GET', path: 'config', decrypt: true });

async function cairn(...args: string[]): Promise<string> {
  const env = { ...process.env, CAIRN_ENDPOINT: server.url, CAIRN_ROOT_USER: ROOT.accessKey };
  Object.assign(env, { CAIRN_ROOT_PASSWORD: ROOT.secretKey, CAIRN_REGION: 'us-east-1' });
  const argv = ['--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts', 'admin', ...args];
  const cwd = new URL('../..', import.meta.url).pathname;
  return (await promisify(execFile)(process.execPath, argv, { env, cwd })).stdout;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-config-live-'));
  server = await startServer({
    drives: [1, 2, 3, 4].map((i) => join(base, `d${i}`)),
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [ALT] },
    // The background rounds run (every 6 h by default): a live change shortens them.
    storage: { background: true },
    shutdownGraceMs: 2000,
    env: {},
  });
});

afterAll(async () => {
  await server?.close();
  await rm(base, { recursive: true, force: true });
});

describe('live configuration', () => {
  it('says which changes apply at once and which wait for a restart', async () => {
    expect(await set('api replication_max_workers=4')).toBe(false);
    expect(await set('region name=eu-west-1')).toBe(false);
    // One key that needs a restart makes the whole change wait.
    expect(await set('api stale_uploads_expiry=48h replication_max_workers=5')).toBe(false);
    expect(await set('api stale_uploads_expiry=36h')).toBe(true);
    expect(await reset('api stale_uploads_expiry')).toBe(true);
    // A whole subsystem's reset touches its restart keys too.
    expect(await reset('api')).toBe(false);
    await reset('region');
    // Help says it key by key.
    const help = (await adminCall(as(), {
      method: 'GET',
      path: 'help-config-kv',
      query: { subSys: 'api' },
    })) as { keysHelp: { key: string; applies: string }[] };
    expect(Object.fromEntries(help.keysHelp.map((k) => [k.key, k.applies]))).toEqual({
      stale_uploads_expiry: 'live',
      stale_uploads_cleanup_interval: 'live',
      replication_max_workers: 'restart',
    });
  });

  it('a bad value is refused and nothing is stored or applied', async () => {
    const before = await full();
    await expect(set('api stale_uploads_cleanup_interval=soon')).rejects.toThrow(/XMinioAdminConfigBadJSON/);
    expect(await full()).toBe(before);
  });

  it('removes an unfinished upload within seconds once the expiry is set live, without a restart', async () => {
    const s3 = makeClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'live' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'live', Key: 'left' }));
    const out = await cairn('config', 'set', 'api', 'stale_uploads_expiry=1s', 'stale_uploads_cleanup_interval=1s');
    expect(out).toContain('api set; applied now');
    await expect
      .poll(async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: 'live' }))).Uploads?.length ?? 0, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(0);
    // Back to the defaults (24 h, every 6 h), live too.
    expect(await cairn('config', 'reset', 'api', 'stale_uploads_expiry', 'stale_uploads_cleanup_interval')).toContain(
      'applied now',
    );
  });
});
