// Start-up of `cairn server` as the single executable (build/cairn, `npm run build:binary`) beside
// `node server/bin/cairn.js`: time from spawn to the first successful GET /health/live, on four fresh drive
// folders each run (so formatting the drives is included), median of 5 runs; and the executable's size.
//
//   npm run -w bench binary            (build/cairn must exist)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BINARY = join(REPO, 'build/cairn');
const RUNS = 5;

if (!existsSync(BINARY)) {
  console.error('build/cairn is missing: run `npm run build:binary` first');
  process.exit(1);
}

/** Milliseconds from spawn to the first 200 of /health/live (polled every 5 ms once the address is logged). */
async function startOnce(command: string, args: string[]): Promise<number> {
  const base = await mkdtemp(join(tmpdir(), 'cairn-startup-'));
  const drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
  const env = {
    ...process.env,
    CAIRN_ROOT_USER: 'benchadmin',
    CAIRN_ROOT_PASSWORD: 'bench-admin-secret',
    CAIRN_LOG_LEVEL: 'info',
    XDG_CACHE_HOME: join(tmpdir(), 'cairn-startup-cache'),
  };
  const t0 = performance.now();
  const child = spawn(command, [...args, 'server', '--address', '127.0.0.1:0', '--workers', '1', ...drives], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const m = /"url":"([^"]+)"/.exec(text);
        if (m) resolve(m[1]);
      });
      void exited.then(() => reject(new Error('the server exited')));
    });
    for (;;) {
      const ok = await fetch(`${url}/health/live`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(base, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: [string, number[]][] = [];
for (const [name, command, args] of [
  ['build/cairn (single executable)', BINARY, []],
  ['node server/bin/cairn.js', process.execPath, [join(REPO, 'server/bin/cairn.js')]],
] as const) {
  await startOnce(command, [...args]); // warm the page cache (and unpack the addon once)
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await startOnce(command, [...args]));
  rows.push([name, times]);
}
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
console.log(`node ${process.version}; build/cairn ${mib(statSync(BINARY).size)}`);
console.log('| command | start to first /health/live 200, median of 5 | runs (ms) |');
console.log('|---|---|---|');
for (const [name, times] of rows)
  console.log(`| ${name} | ${median(times).toFixed(0)} ms | ${times.map((t) => t.toFixed(0)).join(', ')} |`);
