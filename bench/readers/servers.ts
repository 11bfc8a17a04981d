// The servers of a side-by-side run: Cairn started as bench/load/suite.ts starts it (4 drives in a temporary
// folder under /dev/shm), MinIO from a binary given on the command line on 4 drives of the same tmpfs (one
// erasure set, EC 2+2 by MinIO's default for 4 drives, as Cairn's), or endpoints already running.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { cairnCommand, DEFAULT_BIN, startCairn, stopCairn } from '../load/suite.js';
import { sampleTree } from '../load/procstat.js';

export interface Target {
  name: string;
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  /** The server process (CPU is read from /proc for it and its children), when known. */
  pid?: number;
  stop(): Promise<void>;
}

export const REGION = 'us-east-1';

export async function startCairnTarget(
  drivesDir: string,
  accessKey: string,
  secretKey: string,
  keep: boolean,
): Promise<Target> {
  const c = await startCairn(await cairnCommand(DEFAULT_BIN, false), drivesDir, accessKey, secretKey);
  return {
    name: 'cairn',
    endpoint: c.url,
    accessKey,
    secretKey,
    region: REGION,
    bucket: 'readers-cairn',
    pid: c.child.pid,
    stop: () => stopCairn(c, keep),
  };
}

function ready(url: string): Promise<boolean> {
  return new Promise((res) => {
    const req = http.get(`${url}/minio/health/ready`, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.setTimeout(1000, () => req.destroy());
  });
}

/** MinIO on 4 drives under `drivesDir`; it binds a free port itself and prints it ("API: http://..."). */
export async function startMinio(
  bin: string,
  drivesDir: string,
  accessKey: string,
  secretKey: string,
  keep: boolean,
): Promise<Target> {
  const dir = await mkdtemp(join(drivesDir, 'minio-readers-'));
  await Promise.all([1, 2, 3, 4].map((i) => mkdir(join(dir, `d${i}`))));
  const log = join(dir, 'server.log');
  const out = createWriteStream(log);
  const child = spawn(bin, ['server', '--address', '127.0.0.1:0', join(dir, 'd{1...4}')], {
    env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (b: Buffer) => (printed += b.toString()));
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const stop = async () => {
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (keep) console.error(`MinIO drives and log kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };
  for (let waited = 0; ; waited += 250) {
    const url = /API: (http:\/\/127\.0\.0\.1:\d+)/.exec(printed)?.[1];
    if (url && (await ready(url))) {
      return {
        name: 'minio',
        endpoint: url,
        accessKey,
        secretKey,
        region: REGION,
        bucket: 'readers-minio',
        pid: child.pid,
        stop,
      };
    }
    if (exited !== undefined || waited > 60_000) {
      const why = exited !== undefined ? `exit ${exited}` : 'timeout';
      const tail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      await stop();
      throw new Error(`MinIO did not come up (${why}); its log ends:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A server already running (not stopped by the bench). */
export function externalTarget(
  name: string,
  endpoint: string,
  accessKey: string,
  secretKey: string,
  pid?: number,
): Target {
  return {
    name,
    endpoint: endpoint.replace(/\/+$/, ''),
    accessKey,
    secretKey,
    region: REGION,
    bucket: `readers-${name}`,
    pid,
    stop: async () => {},
  };
}

/** CPU seconds used so far by the target's server process tree (undefined when its pid is unknown). */
export async function serverCpu(t: Target): Promise<number | undefined> {
  return t.pid === undefined ? undefined : (await sampleTree(t.pid)).cpuSeconds;
}
