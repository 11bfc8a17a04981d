// Formatting server pools, apart from the engine: the primary of several workers formats them before any worker
// starts, and must not load the storage engine to do it (cli/start-imports.test.ts).
import type { StorageOptions } from './context.js';
import { type Formatted, formatDrives, readFormat } from './drive/format.js';
import { LocalDrive } from './drive/local-drive.js';
import { PoolList } from './pool-list.js';

/**
 * Formats (or checks) the pools' drives: each pool a deployment of its own drives, all under one deployment id (a
 * pool added later joins the one the others have). Refused before any drive is written when a pool the
 * deployment's list remembers is left out before it was drained (pool-list.ts).
 */
export async function formatPools(
  pools: string[][],
  opts: Pick<StorageOptions, 'setSize' | 'parity' | 'openDrive'>,
): Promise<Formatted[]> {
  const openDrive = opts.openDrive ?? ((root: string) => new LocalDrive(root));
  // Refused before anything is written (a new pool given in place of one left out stays unformatted).
  await PoolList.precheck(pools.map((p) => ({ drives: p.map(openDrive) })));
  let deploymentId: string | undefined;
  for (const p of pools)
    for (const root of p) deploymentId ??= (await readFormat(openDrive(root)).catch(() => null))?.deploymentId;
  const formatted: Formatted[] = [];
  for (const p of pools) {
    const f = await formatDrives(p, { setSize: opts.setSize, parity: opts.parity, deploymentId }, openDrive);
    deploymentId ??= f.deploymentId;
    formatted.push(f);
  }
  return formatted;
}
