// A NAS gateway (`cairn gateway nas`) in this process over a temporary folder, on port 0, with the same
// users and clients as test/helpers/cairn.ts. Tests fill the folder with plain fs calls before and while
// it runs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type CairnServer, nasGateway, type ServerOptions } from '@cairn/server';
import { ALT, type ClientOptions, makeClient, ROOT } from './cairn.js';

export interface NasGateway extends CairnServer {
  /** The folder served (removed by close unless it was given). */
  root: string;
  client(opts?: ClientOptions): S3Client;
}

/** Starts the gateway over `root` (a new temporary folder when absent); `prepare` fills it first. */
export async function startNasGateway(
  opts: { root?: string; prepare?: (root: string) => Promise<void> } & Partial<ServerOptions> = {},
): Promise<NasGateway> {
  const { root: given, prepare, ...serverOpts } = opts;
  const root = given ?? (await mkdtemp(join(tmpdir(), 'cairn-nas-')));
  await prepare?.(root);
  const { startServer } = await import('@cairn/server');
  const server = await startServer({
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [ALT] },
    shutdownGraceMs: 2000,
    ...serverOpts,
    drives: [],
    gateway: nasGateway(root),
  });
  return {
    ...server,
    root,
    client: (o) => makeClient(server.url, o),
    close: async () => {
      await server.close();
      if (!given) await rm(root, { recursive: true, force: true });
    },
  };
}
