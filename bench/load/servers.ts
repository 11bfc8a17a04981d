// Starting the servers the benchmarks measure, each on 4 drives of its own in a temporary folder (under
// /dev/shm by default), on a free loopback port: Cairn (the build of `npm run build`, or its sources through
// tsx) and MinIO (a binary built outside the repository; 4 drives make one erasure set with its default
// parity for 4 drives, EC 2+2, as Cairn's). Used by suite.ts and bench/warp.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CAIRN_BIN = join(REPO, 'server/bin/cairn.js');

export interface ServerProcess {
  name: string;
  url: string;
  accessKey: string;
  secretKey: string;
  child: ChildProcess;
  /** The temporary folder holding the drives and the server log. */
  dir: string;
  log: string;
  /** PEM of the CA of an HTTPS server's certificate (Cairn with `tls`). */
  ca?: string;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

function healthy(url: string, ca?: string): Promise<boolean> {
  return new Promise((res) => {
    const get = url.startsWith('https:')
      ? (u: string, cb: (r: http.IncomingMessage) => void) => https.get(u, { ca }, cb)
      : http.get;
    const req = get(url, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.setTimeout(1000, () => req.destroy());
  });
}

/** node arguments that run the cairn command: the built one, or the TypeScript sources through tsx. */
export async function cairnCommand(bin: string, fromSource: boolean): Promise<string[]> {
  const dist = join(REPO, 'server/dist/cli/main.js');
  const built = await stat(dist).then(
    () => true,
    () => false,
  );
  if (fromSource || (bin === DEFAULT_CAIRN_BIN && !built)) {
    if (!fromSource) console.error(`${dist} missing (no \`npm run build\` yet): running Cairn from its sources`);
    return ['--conditions=source', '--import', 'tsx', join(REPO, 'server/src/cli/main.ts')];
  }
  return [bin];
}

interface Launch {
  name: string;
  drivesDir: string;
  accessKey: string;
  secretKey: string;
  /** The command and its arguments, given the address, the drive folders and the certificates folder. */
  command(
    address: string,
    drives: string[],
    certsDir?: string,
  ): { file: string; args: string[]; env: NodeJS.ProcessEnv };
  healthPath: string;
  /** Serve HTTPS with a certificate from a throw-away CA. */
  tls?: boolean;
}

/** A CA and a certificate for 127.0.0.1 signed by it, in `dir` as `cairn server --certs-dir` reads them. */
async function makeCertificates(dir: string): Promise<string> {
  const run = promisify(execFile);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const at = (f: string) => join(dir, f);
  await mkdir(dir);
  await run(
    'openssl',
    ['req', '-x509', ...ec, '-days', '1', '-subj', '/CN=cairn bench CA'].concat([
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.crt'),
    ]),
  );
  await run('openssl', ['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', at('private.key'), '-out', at('leaf.csr')]);
  await writeFile(at('leaf.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await run(
    'openssl',
    ['x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key')].concat([
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      at('leaf.ext'),
      '-out',
      at('public.crt'),
    ]),
  );
  return readFile(at('ca.crt'), 'utf8');
}

async function launch(l: Launch): Promise<ServerProcess> {
  const dir = await mkdtemp(join(l.drivesDir, `${l.name}-bench-`));
  const drives = [1, 2, 3, 4].map((i) => join(dir, `d${i}`));
  await Promise.all(drives.map((d) => mkdir(d)));
  const certsDir = l.tls ? join(dir, 'certs') : undefined;
  const ca = certsDir ? await makeCertificates(certsDir) : undefined;
  const port = await freePort();
  const url = `${l.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const log = join(dir, 'server.log');
  const out = createWriteStream(log);
  const { file, args, env } = l.command(`127.0.0.1:${port}`, drives, certsDir);
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (let waited = 0; ; waited += 250) {
    if (exited !== undefined || waited > 60_000) {
      const tail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(
        `${l.name} did not come up (${exited !== undefined ? `exit ${exited}` : 'timeout'}); its log ends:\n${tail}`,
      );
    }
    if (await healthy(url + l.healthPath, ca)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { name: l.name, url, accessKey: l.accessKey, secretKey: l.secretKey, child, dir, log, ca };
}

/** bare-server.mjs: node:http(s) answering every GET with 64 MiB from memory (tls-split.ts); HTTPS with `tls`. */
export function startBare(drivesDir: string, tls: boolean): Promise<ServerProcess> {
  return launch({
    name: 'bare',
    drivesDir,
    accessKey: 'bare',
    secretKey: 'bare',
    healthPath: '/health/live',
    tls,
    command: (address, _drives, certsDir) => ({
      file: process.execPath,
      args: [
        join(REPO, 'bench/load/bare-server.mjs'),
        '--address',
        address,
        ...(certsDir ? ['--certs-dir', certsDir] : []),
      ],
      env: process.env,
    }),
  });
}

/** Cairn on 4 drives, credentials in the environment, `extraEnv` added (e.g. CAIRN_WORKERS); HTTPS with `tls`. */
export function startCairn(
  command: string[],
  drivesDir: string,
  accessKey: string,
  secretKey: string,
  extraEnv: NodeJS.ProcessEnv = {},
  tls = false,
): Promise<ServerProcess> {
  return launch({
    name: 'cairn',
    drivesDir,
    accessKey,
    secretKey,
    healthPath: '/health/live',
    tls,
    command: (address, drives, certsDir) => ({
      file: process.execPath,
      args: [...command, 'server', '--address', address, ...(certsDir ? ['--certs-dir', certsDir] : []), ...drives],
      env: { ...process.env, ...extraEnv, CAIRN_ROOT_USER: accessKey, CAIRN_ROOT_PASSWORD: secretKey },
    }),
  });
}

/** MinIO from the binary at `bin` on 4 drives (its `{1...4}` expansion), console off. */
export function startMinio(
  bin: string,
  drivesDir: string,
  accessKey: string,
  secretKey: string,
): Promise<ServerProcess> {
  return launch({
    name: 'minio',
    drivesDir,
    accessKey,
    secretKey,
    healthPath: '/minio/health/ready',
    command: (address, drives) => ({
      file: bin,
      args: ['server', '--quiet', '--address', address, drives[0].replace(/d1$/, 'd{1...4}')],
      env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off' },
    }),
  });
}

/** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its drives unless `keep`. */
export async function stopServer(s: ServerProcess, keep: boolean): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  }
  if (keep) console.error(`${s.name}: drives and server log kept in ${s.dir}`);
  else await rm(s.dir, { recursive: true, force: true });
}
