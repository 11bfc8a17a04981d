// What every JavaScript isolate of a server loads (each worker thread of --worker-mode threads has its own copy
// of every module): the primary's and a worker's modules leave node's undici (fetch) unloaded, which costs each
// isolate ~2.4 MB of heap. An ES import of node:http's values loads it (src/node-http.ts says why).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../..', import.meta.url));

it("the primary's and a worker's modules leave undici unloaded", async () => {
  const script = `
    for (const m of ['cli/commands.ts', 'cluster/primary.ts', 'cluster/worker.ts', 'main.ts'])
      await import('./server/src/' + m);
    console.log(JSON.stringify(process.moduleLoadList.filter((x) => x.includes('undici'))));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: repo },
  );
  expect(JSON.parse(stdout)).toEqual([]);
}, 120_000);
