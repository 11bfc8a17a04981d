// The `cairn` single executable (scripts/build-binary.mjs, `npm run build:binary`) run with an empty environment
// (`env -i`: no PATH, so no node to lean on): --version, a server on four drive folders answering PUT, GET and
// S3 Select on a CSV, the same with --workers 2 (processes, the executable's default), and the NAS gateway. CI
// builds the executable before the tests (.ci/run); here it is built when missing (about a minute), or the
// tests say why they cannot run.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient } from '../helpers/cairn.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const binary = join(repo, 'build/cairn');
const creds = { accessKey: 'binaryadmin', secretKey: 'binary-admin-secret' };
const nodeMajor = Number(process.versions.node.split('.')[0]);

// Without the executable, and no node 24 here to build it with, the tests cannot run: said, not hidden.
const cannotBuild = !existsSync(binary) && nodeMajor < 24;
if (cannotBuild) console.warn(`test/binary skipped: ${binary} is missing and node ${process.version} cannot build it`);

let base: string;
let cache: string;

beforeAll(async () => {
  if (cannotBuild) return;
  if (!existsSync(binary))
    execFileSync(process.execPath, ['scripts/build-binary.mjs'], { cwd: repo, stdio: 'inherit' });
  base = await mkdtemp(join(tmpdir(), 'cairn-binary-'));
  cache = join(base, 'cache');
}, 600_000);
/** Servers started, stopped at the end if a test could not (a server that never said where it serves). */
const running = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  if (base) await rm(base, { recursive: true, force: true });
});

/** `env -i` plus what the run needs: credentials, and a cache folder of its own for the unpacked addon. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { XDG_CACHE_HOME: cache, ...extra };
}

/** Runs `cairn ARGS` (a server) until its log gives the address it serves; returns the client and a stop. */
async function serve(
  args: string[],
): Promise<{ url: string; s3: S3Client; stop: () => Promise<number | null>; log: () => string }> {
  const child = spawn(binary, args, {
    env: bareEnv({ CAIRN_ROOT_USER: creds.accessKey, CAIRN_ROOT_PASSWORD: creds.secretKey, CAIRN_LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const exited = once(child, 'exit');
  void exited.then(() => running.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      out += `${text}\n`;
      const line = JSON.parse(text) as { url?: string; msg?: string };
      if (typeof line.url === 'string' && line.msg?.startsWith('Cairn is serving')) resolve(line.url);
    });
    void exited.then(([code]) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  return {
    url,
    s3: makeClient(url, { credentials: creds }),
    log: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return (await exited)[0] as number | null;
    },
  };
}

async function putGetSelect(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const csv = 'name,city,age\nann,Oslo,34\nbob,Lima,27\ncid,Oslo,51\n';
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'people.csv', Body: csv }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'people.csv' }));
  expect(await got.Body!.transformToString()).toBe(csv);
  const sel = await s3.send(
    new SelectObjectContentCommand({
      Bucket: bucket,
      Key: 'people.csv',
      ExpressionType: 'SQL',
      Expression: "SELECT s.name FROM S3Object s WHERE s.city = 'Oslo' AND CAST(s.age AS INT) > 40",
      InputSerialization: { CSV: { FileHeaderInfo: 'USE' } },
      OutputSerialization: { CSV: {} },
    }),
  );
  let records = '';
  for await (const ev of sel.Payload!) if (ev.Records?.Payload) records += Buffer.from(ev.Records.Payload).toString();
  expect(records).toBe('cid\n');
}

describe.skipIf(cannotBuild)('the cairn executable, with no node around', () => {
  it('--version names the server, the addon and the node inside', () => {
    const out = execFileSync(binary, ['--version'], { env: bareEnv(), encoding: 'utf8' });
    expect(out).toMatch(/^cairn \d+\.\d+\.\d+ \(native \S+, node v\d+\.\d+\.\d+\)\n$/);
    // The addon was unpacked into the private cache folder, under its hash.
    expect(readdirSync(join(cache, 'cairn')).filter((f) => /^cairn-native-[0-9a-f]{32}\.node$/.test(f))).toHaveLength(
      1,
    );
  });

  it('serves S3 on four drive folders: PUT, GET, S3 Select on a CSV', async () => {
    const drives = [1, 2, 3, 4].map((i) => join(base, 'one', `d${i}`));
    const server = await serve(['server', '--address', '127.0.0.1:0', '--workers', '1', ...drives]);
    try {
      await putGetSelect(server.s3, 'one');
      // The web console, when console/dist was there at build time (npm ci builds it), is inside.
      if (existsSync(join(repo, 'console/dist/index.html'))) {
        const page = await fetch(`${server.url}/console/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<script');
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('--workers 2: the workers are the executable too', async () => {
    const drives = [1, 2, 3, 4].map((i) => join(base, 'two', `d${i}`));
    const server = await serve(['server', '--address', '127.0.0.1:0', '--workers', '2', ...drives]);
    try {
      await putGetSelect(server.s3, 'two');
      expect(server.log()).toContain('"workers":2');
      // The executable forks itself: processes are its default (threads are node's only).
      expect(server.log()).toContain('"mode":"processes"');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('gateway nas serves a folder', async () => {
    const share = join(base, 'share');
    await mkdir(join(share, 'reports'), { recursive: true });
    await writeFile(join(share, 'reports/q1.csv'), 'a,b\n1,2\n');
    const server = await serve(['gateway', 'nas', '--address', '127.0.0.1:0', share]);
    try {
      const got = await server.s3.send(new GetObjectCommand({ Bucket: 'reports', Key: 'q1.csv' }));
      expect(await got.Body!.transformToString()).toBe('a,b\n1,2\n');
      expect(await readdir(join(share, 'reports'))).toEqual(['q1.csv']);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
