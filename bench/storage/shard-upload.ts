// The serving side of shard uploads (storage RPC `PUT /shard`) alone: a child process serves four drive folders
// under /dev/shm (storageRpcServer of a build), this process uploads objects to them as node 1 of a distributed
// PUT does (RemoteDrive.createShard: four shard files of 64 frames of 128 KiB + 32 each, four objects at a time),
// and prints the serving process's CPU per GiB received. `--server DIR`: the server/dist of another build (a
// worktree of main, for an A/B); default this tree's (npm run build first). Figures: README.md.
//
//   node --import tsx bench/storage/shard-upload.ts [--gib 1] [--server /path/to/server/dist]
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CREDS = { accessKey: 'bench-root', secretKey: 'bench-root-secret' };
const DRIVES = 4;
const FRAME = Buffer.alloc(128 * 1024 + 32, 3);
const FRAMES = 64;
const here = fileURLToPath(new URL('../../server/dist', import.meta.url));

async function serve(dist: string, dir: string): Promise<void> {
  const { storageRpcServer } = await import(`${dist}/storage/rpc/index.js`);
  const roots = Array.from({ length: DRIVES }, (_, i) => `${dir}/d${i}`);
  const rpc = storageRpcServer({ roots, credentials: CREDS });
  const server = createServer((req, res) => rpc.handle(req, res));
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m) => {
    if (m !== 'cpu') return;
    const u = process.cpuUsage();
    process.send!({ cpu: (u.user + u.system) / 1e6 });
  });
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { gib: { type: 'string', default: '1' }, server: { type: 'string' } } });
  const dist = v.server ?? here;
  const dir = await mkdtemp('/dev/shm/cairn-shard-upload-');
  const child = fork(fileURLToPath(import.meta.url), ['--serve', dist, dir], { execArgv: process.execArgv });
  try {
    const { port } = await new Promise<{ port: number }>((r) => child.once('message', r as (m: unknown) => void));
    const { remoteDrives } = await import(`${here}/storage/rpc/index.js`);
    const open = remoteDrives(CREDS);
    const drives = Array.from({ length: DRIVES }, (_, i) => open.open(`http://127.0.0.1:${port}${dir}/d${i}`));
    for (const d of drives) await d.mkdirs('x');
    const cpu = () =>
      new Promise<number>((r) => {
        child.once('message', (m) => r((m as { cpu: number }).cpu));
        child.send('cpu');
      });
    const objects = Math.max(1, Math.round((Number(v.gib) * 2 ** 30) / (DRIVES * FRAMES * FRAME.length)));
    const c0 = await cpu();
    const t0 = Date.now();
    let next = 0;
    const uploader = async () => {
      while (next < objects) {
        const rel = `x/o${next++}`;
        const sinks = await Promise.all(drives.map((d) => d.createShard(rel)));
        for (let b = 0; b < FRAMES; b++) await Promise.all(sinks.map((s) => s.write([FRAME])));
        await Promise.all(sinks.map((s) => s.close()));
        await Promise.all(drives.map((d) => d.unlinkIfExists(rel)));
      }
    };
    await Promise.all([uploader(), uploader(), uploader(), uploader()]);
    const c1 = await cpu();
    const seconds = (Date.now() - t0) / 1000;
    const gib = (objects * DRIVES * FRAMES * FRAME.length) / 2 ** 30;
    console.log(
      `server ${dist}: ${gib.toFixed(2)} GiB received in ${seconds.toFixed(1)} s (${((gib * 1024) / seconds).toFixed(0)} MiB/s), ` +
        `serving process ${((c1 - c0) / gib).toFixed(2)} CPU-s/GiB`,
    );
    open.close();
  } finally {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') void serve(process.argv[3], process.argv[4]);
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
