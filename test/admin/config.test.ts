// The stored server configuration over MinIO's admin API (api/admin/config), through the admin client:
// set / get / reset with secrets redacted, the history and its restore, every bad input refused with MinIO's
// error and nothing stored (read back), admin:ConfigUpdate needed, and the effect of a set once the server
// restarts on the same drives (region, notification targets, stale upload expiry, Select dialect), the
// environment winning.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
} from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptData } from '../../server/src/api/iam/madmin-crypto.js';
import { adminCall, adminText, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, makeClient, ROOT } from '../helpers/cairn.js';

let base: string;
let drives: string[];
let server: CairnServer;

const as = (c: { accessKey: string; secretKey: string }, region = 'us-east-1'): AdminTarget => ({
  endpoint: server.url,
  region,
  ...c,
});

async function start(env: NodeJS.ProcessEnv = {}, background = false): Promise<void> {
  server = await startServer({
    drives,
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [ALT] },
    storage: { background },
    shutdownGraceMs: 2000,
    env,
  });
}

const get = (key: string, t = as(ROOT)) =>
  adminText(t, { method: 'GET', path: 'get-config-kv', query: { key }, decrypt: true });
const set = (body: string, t = as(ROOT)) => adminText(t, { method: 'PUT', path: 'set-config-kv', body, encrypt: true });
const reset = (body: string) => adminText(as(ROOT), { method: 'DELETE', path: 'del-config-kv', body, encrypt: true });
const full = () => adminText(as(ROOT), { method: 'GET', path: 'config', decrypt: true });
type Entry = { restoreId: string; createTime: string; data: string };
const history = async () =>
  (await adminCall(as(ROOT), {
    method: 'GET',
    path: 'list-config-history-kv',
    query: { count: '100' },
    decrypt: true,
  })) as Entry[];

/** `int(_1) + 1` over a one-line CSV object: Ceph's INT() answers '3', the AWS dialect refuses the function. */
async function cephInt(s3: S3Client, bucket: string): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'n.csv', Body: '2\n' }));
  try {
    const res = await s3.send(
      new SelectObjectContentCommand({
        Bucket: bucket,
        Key: 'n.csv',
        Expression: 'select int(_1) + 1 from stdin',
        ExpressionType: 'SQL',
        InputSerialization: { CSV: {} },
        OutputSerialization: { CSV: {} },
      }),
    );
    let out = '';
    for await (const ev of res.Payload!) if (ev.Records?.Payload) out += Buffer.from(ev.Records.Payload).toString();
    return out;
  } catch (e) {
    return (e as Error).name;
  }
}

/** The admin error a call fails with (`path: status Code: message`), or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-config-'));
  drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
  await start();
});

afterAll(async () => {
  await server?.close();
  await rm(base, { recursive: true, force: true });
});

describe('set, get, reset', () => {
  it('a fresh server shows the defaults', async () => {
    expect(await get('api')).toBe(
      'api stale_uploads_expiry=24h stale_uploads_cleanup_interval=6h replication_max_workers=8\n',
    );
    expect(await get('region')).toBe('region name=\n');
    expect(await get('select')).toBe('select dialect=aws\n');
  });

  it('set values are read back; secrets are redacted by get-config-kv and in the history, in clear in the export', async () => {
    await set('api stale_uploads_expiry=2h replication_max_workers=4');
    await set('notify_webhook:1 enable=on endpoint=http://127.0.0.1:9/hook auth_token="very secret"');
    expect(await get('api')).toBe(
      'api stale_uploads_expiry=2h stale_uploads_cleanup_interval=6h replication_max_workers=4\n',
    );
    const hook = await get('notify_webhook:1');
    expect(hook).toContain('notify_webhook:1 enable=on endpoint=http://127.0.0.1:9/hook auth_token=*redacted*');
    expect(hook).not.toContain('very secret');
    // Without a target: the default one, then the named ones.
    expect((await get('notify_webhook')).split('\n')[0]).toMatch(/^notify_webhook enable=off endpoint= /);
    const h = await history();
    expect(h.map((e) => e.data)).toEqual([
      'api stale_uploads_expiry=2h replication_max_workers=4',
      'notify_webhook:1 enable=on endpoint=http://127.0.0.1:9/hook auth_token=*redacted*',
    ]);
    expect(await full()).toContain('auth_token="very secret"');
  });

  it('a reset puts keys or a whole target back to the defaults', async () => {
    await reset('api replication_max_workers');
    expect(await get('api')).toBe(
      'api stale_uploads_expiry=2h stale_uploads_cleanup_interval=6h replication_max_workers=8\n',
    );
    await set('notify_webhook:gone enable=off endpoint=http://127.0.0.1:9/x');
    await reset('notify_webhook:gone');
    expect(await outcome(get('notify_webhook:gone'))).toMatch(/400 XMinioConfigError: there is no target `gone`/);
  });

  it("help lists the subsystems and says each key's variable, default and when it applies", async () => {
    const all = (await adminCall(as(ROOT), { method: 'GET', path: 'help-config-kv', query: { subSys: '' } })) as {
      keysHelp: { key: string }[];
    };
    expect(all.keysHelp.map((k) => k.key)).toEqual(expect.arrayContaining(['region', 'api', 'notify_webhook']));
    const api = (await adminCall(as(ROOT), {
      method: 'GET',
      path: 'help-config-kv',
      query: { subSys: 'api', key: 'stale_uploads_expiry' },
    })) as { keysHelp: Record<string, unknown>[] };
    expect(api.keysHelp).toEqual([
      expect.objectContaining({
        key: 'stale_uploads_expiry',
        type: 'duration',
        env: 'CAIRN_API_STALE_UPLOADS_EXPIRY',
        default: '24h',
        applies: 'live',
      }),
    ]);
  });
});

describe('bad input changes nothing stored', () => {
  const bad: [string, string, RegExp][] = [
    ['unknown subsystem', 'nosuch key=1', /400 XMinioConfigError: unknown sub-system nosuch/],
    ['a MinIO subsystem Cairn does not implement', 'scanner speed=fast', /XMinioConfigError: .*'scanner' is not impl/],
    ['an unknown key (MinIO drops it)', 'api requests_max=100', /XMinioConfigError: unknown key 'requests_max'/],
    ['a key without a value', 'api stale_uploads_expiry', /XMinioConfigError: key 'stale_uploads_expiry' has no/],
    ['no keys', 'api', /XMinioConfigError: sub-system 'api' must have key/],
    ['a target on a single-target subsystem', 'api:x stale_uploads_expiry=1h', /only supports single target/],
    ['a bad target name', 'notify_webhook:a/b enable=off', /XMinioConfigError: sub-system target 'a\/b' is invalid/],
    ['an unclosed quote', 'notify_webhook:2 endpoint="http://x', /XMinioConfigError: .* no closing quote/],
    ['a bad duration', 'api stale_uploads_expiry=soon', /400 XMinioAdminConfigBadJSON: api stale_uploads_expiry: /],
    ['too many senders', 'api replication_max_workers=501', /XMinioAdminConfigBadJSON: api: .*1 to 500/],
    ['a bad region', 'region name=1-bad', /XMinioAdminConfigBadJSON: region name: region name '1-bad' is invalid/],
    ['an unknown Select dialect', 'select dialect=oracle', /BadJSON: select dialect: .*aws, cairn, ceph, got 'oracle'/],
    ['an enabled target without its endpoint', 'notify_webhook:3 enable=on', /BadJSON: notify_webhook: .*ENDPOINT_3/],
    ['a bad on/off', 'notify_webhook:3 enable=yes', /XMinioAdminConfigBadJSON: notify_webhook enable: /],
  ];

  it.each(bad)('%s', async (_why, body, error) => {
    const before = { config: await full(), history: await history() };
    expect(await outcome(set(body))).toMatch(error);
    expect({ config: await full(), history: await history() }).toEqual(before);
  });

  it('a body not encrypted, or encrypted with another secret, is refused', async () => {
    const before = await full();
    const plain = await outcome(
      adminText(as(ROOT), { method: 'PUT', path: 'set-config-kv', body: 'api replication_max_workers=2' }),
    );
    expect(plain).toMatch(/400 XMinioAdminConfigBadJSON/);
    // A body sealed with ALT's secret, sent signed by the root user.
    const sealed = await encryptData(ALT.secretKey, Buffer.from('api replication_max_workers=2'));
    const other = await outcome(adminText(as(ROOT), { method: 'PUT', path: 'set-config-kv', body: sealed }));
    expect(other).toMatch(/400 XMinioAdminConfigBadJSON/);
    expect(await full()).toBe(before);
  });

  it('every call needs admin:ConfigUpdate', async () => {
    const before = await full();
    expect(await outcome(set('api replication_max_workers=2', as(ALT)))).toMatch(/403 AccessDenied/);
    expect(await outcome(get('api', as(ALT)))).toMatch(/403 AccessDenied/);
    expect(await full()).toBe(before);
  });
});

describe('history', () => {
  it('restoring an entry sets its change again and removes it; clearing removes entries', async () => {
    await set('region name=eu-west-1');
    await set('region name=eu-west-2');
    const entry = (await history()).find((e) => e.data === 'region name=eu-west-1');
    expect(entry).toBeDefined();
    await adminText(as(ROOT), {
      method: 'PUT',
      path: 'restore-config-history-kv',
      query: { restoreId: entry!.restoreId },
    });
    expect(await get('region')).toBe('region name=eu-west-1\n');
    expect((await history()).map((e) => e.restoreId)).not.toContain(entry!.restoreId);
    const missing = await outcome(
      adminText(as(ROOT), {
        method: 'PUT',
        path: 'restore-config-history-kv',
        query: { restoreId: '00000000-0000-0000-0000-000000000000' },
      }),
    );
    expect(missing).toMatch(/404 XMinioConfigError/);
    const [first] = await history();
    await adminText(as(ROOT), {
      method: 'DELETE',
      path: 'clear-config-history-kv',
      query: { restoreId: first.restoreId },
    });
    expect((await history()).map((e) => e.restoreId)).not.toContain(first.restoreId);
    await adminText(as(ROOT), { method: 'DELETE', path: 'clear-config-history-kv', query: { restoreId: 'all' } });
    expect(await history()).toEqual([]);
  });
});

/** `cairn admin ARGS...` against the server, as the root user. */
async function cairn(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, CAIRN_ENDPOINT: server.url, CAIRN_ROOT_USER: ROOT.accessKey };
  Object.assign(env, { CAIRN_ROOT_PASSWORD: ROOT.secretKey, CAIRN_REGION: 'us-east-1' });
  const argv = ['--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts', 'admin', ...args];
  const cwd = new URL('../..', import.meta.url).pathname;
  try {
    const r = await promisify(execFile)(process.execPath, argv, { env, cwd });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

describe('cairn admin config', () => {
  it('set, get as a table and as JSON, reset, help, history, export and import', async () => {
    const set = await cairn('config', 'set', 'notify_webhook:cli', 'endpoint=http://127.0.0.1:9/a b', 'auth_token=tok');
    expect(set).toMatchObject({ code: 0, out: expect.stringContaining('applies when the server restarts') });
    const table = await cairn('config', 'get', 'notify_webhook:cli');
    expect(table.out.split('\n')[0]).toMatch(/^SUBSYS\s+TARGET\s+KEY\s+VALUE/);
    expect(table.out).toMatch(/notify_webhook\s+cli\s+endpoint\s+http:\/\/127\.0\.0\.1:9\/a b/);
    const rows = JSON.parse((await cairn('--json', 'config', 'get', 'notify_webhook:cli')).out) as Record<
      string,
      string
    >[];
    expect(rows).toContainEqual({ subsys: 'notify_webhook', target: 'cli', key: 'auth_token', value: '*redacted*' });
    expect((await cairn('config', 'reset', 'notify_webhook:cli')).code).toBe(0);
    expect((await cairn('config', 'get', 'notify_webhook:cli')).err).toMatch(/XMinioConfigError: there is no target/);
    const help = await cairn('config', 'help', 'api');
    expect(help.out).toMatch(/stale_uploads_expiry\s+duration\s+24h\s+CAIRN_API_STALE_UPLOADS_EXPIRY/);
    const history = JSON.parse((await cairn('--json', 'config', 'history')).out) as Entry[];
    expect(history.at(-1)?.data).toBe('notify_webhook:cli endpoint="http://127.0.0.1:9/a b" auth_token=*redacted*');
    const exported = (await cairn('config', 'export')).out;
    expect(exported).toMatch(/^region name=.*\napi stale_uploads_expiry=/);
    expect(JSON.parse((await cairn('--json', 'config', 'export')).out)).toEqual({ config: await full() });
    const file = join(base, 'import.txt');
    await writeFile(file, 'region name=eu-north-1\napi replication_max_workers=7\n');
    expect((await cairn('config', 'import', file)).code).toBe(0);
    expect(await full()).toMatch(/^region name=eu-north-1\napi stale_uploads_expiry=24h .*replication_max_workers=7\n/);
    // A bad value: the command fails with the server's error, nothing changes.
    const before = await full();
    const bad = await cairn('config', 'set', 'api', 'replication_max_workers=0');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/400 XMinioAdminConfigBadJSON: api: CAIRN_API_REPLICATION_MAX_WORKERS must be/);
    expect(await full()).toBe(before);
  }, 180_000); // a dozen or more `cairn` processes started from the sources: 6 s on a quiet machine, over 60 s at load 37
});

describe('after a restart on the same drives', () => {
  it('the stored values are in effect: region, notification target, stale upload expiry, Select dialect', async () => {
    await set('region name=eu-central-1');
    await set('select dialect=ceph');
    await set('notify_webhook:1 enable=on endpoint=http://127.0.0.1:9/hook');
    await set('api stale_uploads_expiry=1s stale_uploads_cleanup_interval=1s');
    await server.close();
    await start({}, true);
    const info = (await adminCall(as(ROOT, 'eu-central-1'), { method: 'GET', path: 'info' })) as { region: string };
    expect(info.region).toBe('eu-central-1');
    expect(server.notifyStatus().map((t) => t.target)).toEqual(['1:webhook']);
    // An upload left unfinished goes with the next background round (every second, uploads older than 1 s).
    const s3 = makeClient(server.url, { extra: { region: 'eu-central-1' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'stale' }));
    expect(await cephInt(s3, 'stale')).toBe('3\n');
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'stale', Key: 'left' }));
    await expect
      .poll(async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: 'stale' }))).Uploads?.length ?? 0, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(0);
  });

  it('the environment wins over a stored value, and get shows it', async () => {
    await server.close();
    await start({
      CAIRN_REGION_NAME: 'ap-south-1',
      CAIRN_API_STALE_UPLOADS_EXPIRY: '24h',
      CAIRN_SELECT_DIALECT: 'aws',
    });
    const info = (await adminCall(as(ROOT, 'ap-south-1'), { method: 'GET', path: 'info' })) as { region: string };
    expect(info.region).toBe('ap-south-1');
    const s3 = makeClient(server.url, { extra: { region: 'ap-south-1' } });
    expect(await cephInt(s3, 'stale')).toBe('UnsupportedFunction');
    expect(await get('region', as(ROOT, 'ap-south-1'))).toBe(
      '# CAIRN_REGION_NAME=ap-south-1\nregion name=eu-central-1\n',
    );
  });
});
