// An S3 gateway (`cairn gateway s3 URL`) in this process, on port 0, in front of a second real Cairn (its
// backend, with credentials of its own: the gateway's clients are the users of test/helpers/cairn.ts, which
// the backend does not know). Cairn's state goes to a temporary folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type CairnServer, s3Gateway, type ServerOptions, type SpliceMode } from '@cairn/server';
import { ALT, type ClientOptions, makeClient, ROOT, startTestServer, type TestServer } from './cairn.js';

/** The backend's only user: the gateway signs its requests with these. */
export const BACKEND_ROOT = { accessKey: 'backendroot', secretKey: 'backend-root-secret' };

export interface S3Gateway extends CairnServer {
  stateDir: string;
  client(opts?: ClientOptions): S3Client;
}

export function startBackend(): Promise<TestServer> {
  return startTestServer({ credentials: { root: BACKEND_ROOT, users: [] } });
}

/** A client of the backend itself (what the gateway talks to), as the backend's root. */
export function backendClient(backend: { url: string }): S3Client {
  return makeClient(backend.url, { credentials: BACKEND_ROOT });
}

/** The gateway in front of `url`; close() removes its state folder unless one was given. */
export async function startS3Gateway(
  url: string,
  opts: Partial<ServerOptions> & {
    backendCredentials?: { accessKey: string; secretKey: string };
    stateDir?: string;
    /** When GET bodies are spliced from socket to socket (CAIRN_GATEWAY_SPLICE; default auto: never to a test's client). */
    splice?: SpliceMode;
  } = {},
): Promise<S3Gateway> {
  const { backendCredentials, stateDir: given, splice, ...serverOpts } = opts;
  const stateDir = given ?? (await mkdtemp(join(tmpdir(), 'cairn-s3gw-')));
  const { startServer } = await import('@cairn/server');
  const creds = backendCredentials ?? BACKEND_ROOT;
  const server = await startServer({
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [ALT] },
    shutdownGraceMs: 2000,
    ...serverOpts,
    drives: [],
    // Short timeouts: a stopped backend is found out fast.
    gateway: s3Gateway({ url, ...creds, stateDir, connectTimeoutMs: 2000, idleTimeoutMs: 10_000, splice }),
  });
  return {
    ...server,
    stateDir,
    client: (o) => makeClient(server.url, o),
    close: async () => {
      await server.close();
      if (!given) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
