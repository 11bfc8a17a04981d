// The NAS gateway's storage: an existing folder served as S3 (`cairn gateway nas PATH`). openNas() checks
// the folder, makes its hidden area (`.cairn.sys`: side store, temp files, uploads, Cairn's own state) and
// gives the ObjectLayer the server runs on.
import { randomUUID } from 'node:crypto';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../context.js';
import { SYS_DIR } from '../drive/drive.js';
import { NasObjects } from './nas-objects.js';
import { NasPaths } from './paths.js';
import { readJson, SideStore } from './side-store.js';

export { NasObjects };

export interface NasStorageOptions {
  /** Unfinished multipart uploads older than this are removed (default 24 h), looked for every 6 h. */
  staleUploadsExpiryMs?: number;
  staleUploadsCleanupIntervalMs?: number;
  log?: Logger;
}

/** Serves the folder `root` (which must exist). Its deployment id is kept in `.cairn.sys/gateway.json`. */
export async function openNas(root: string, opts: NasStorageOptions = {}): Promise<NasObjects> {
  const real = await realpath(root).catch(() => null);
  if (!real || !(await stat(real)).isDirectory()) throw new Error(`${root} is not a folder`);
  const paths = new NasPaths(real);
  const tmp = join(paths.hidden, 'tmp');
  await mkdir(tmp, { recursive: true });
  const idFile = join(paths.hidden, 'gateway.json');
  let doc = await readJson<{ format: string; deploymentId: string }>(idFile);
  if (!doc?.deploymentId) {
    doc = { format: 'cairn-nas-gateway', deploymentId: randomUUID() };
    await new SideStore(paths.hidden, tmp).writeAtomic(idFile, JSON.stringify(doc));
  }
  const objects = new NasObjects(paths, {
    deploymentId: doc.deploymentId,
    log: opts.log ?? silentLogger,
    staleUploadsExpiryMs: opts.staleUploadsExpiryMs ?? 24 * 3_600_000,
    staleUploadsCleanupIntervalMs: opts.staleUploadsCleanupIntervalMs ?? 6 * 3_600_000,
  });
  await objects.start();
  return objects;
}

/** The folder as a server's storage (ServerOptions.gateway): queues go to its hidden area. */
export function nasGateway(
  root: string,
  opts: NasStorageOptions = {},
): { open(): Promise<NasObjects>; systemDir: string } {
  return { open: () => openNas(root, opts), systemDir: join(root, SYS_DIR) };
}
