// Shared test helpers: start a real Cairn server on port 0 over temporary drive folders, and make S3
// clients for it. Used by test/s3 (JS SDK), S3 Select tests and the Python suites' runners.
import { tracingChannel } from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { startServer, type CairnServer, type ServerOptions } from '@cairn/server';
import * as Minio from 'minio';
import { ALT, ROOT } from './users.js';

export { ALT, ROOT };

export interface TestServer extends CairnServer {
  /** The temporary drive folders (removed by close). */
  drives: string[];
  client(opts?: ClientOptions): S3Client;
}

export interface ClientOptions {
  credentials?: { accessKey: string; secretKey: string };
  /** 'WHEN_REQUIRED' turns off the SDK's default CRC32 request checksums. */
  checksums?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  extra?: Partial<S3ClientConfig>;
}

export function makeClient(url: string, opts: ClientOptions = {}): S3Client {
  const c = opts.credentials ?? ROOT;
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
    requestChecksumCalculation: opts.checksums ?? 'WHEN_SUPPORTED',
    responseChecksumValidation: opts.checksums ?? 'WHEN_SUPPORTED',
    maxAttempts: 1,
    ...opts.extra,
  });
}

export type TestServerOptions = { drives?: number } & Omit<Partial<ServerOptions>, 'drives'>;

/** A server on 127.0.0.1:0 with `drives` temporary drive folders (default 4), root ROOT and a second user ALT. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const base = await mkdtemp(join(tmpdir(), 'cairn-test-'));
  const drives = Array.from({ length: opts.drives ?? 4 }, (_, i) => join(base, `d${i + 1}`));
  const server = await startServer({
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [ALT] },
    storage: { background: false },
    shutdownGraceMs: 2000,
    ...opts,
    drives,
  });
  return {
    ...server,
    drives,
    client: (o) => makeClient(server.url, o),
    close: async () => {
      await server.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** A minio-js client for a test server, as the root user. */
export function minioClient(server: { url: string }): Minio.Client {
  const u = new URL(server.url);
  return new Minio.Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: ROOT.accessKey,
    secretKey: ROOT.secretKey,
  });
}

/** What most test files start with: a server and its clients. */
export interface TestSetup {
  server: TestServer;
  /** The root user's client. */
  s3: S3Client;
  /** The second user's (ALT) client. */
  alt: S3Client;
  /** A client that sends its requests unsigned (anonymous). */
  anon: S3Client;
}

/**
 * The setup test/s3 files share: a test server, its clients, and `bucket` made by the root user when one is
 * named. `client` sets the root client's options. Call it in beforeAll; close `server` in afterAll.
 */
export async function startWithBucket(
  bucket?: string,
  opts: TestServerOptions & { client?: ClientOptions } = {},
): Promise<TestSetup> {
  const { client, ...serverOpts } = opts;
  const server = await startTestServer(serverOpts);
  const s3 = server.client(client);
  if (bucket !== undefined) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    server,
    s3,
    alt: server.client({ credentials: ALT }),
    anon: server.client({ extra: { signer: { sign: async (r) => r } } }),
  };
}

/** The S3 error a request failed with (name = S3 code, status = HTTP status); fails when it succeeded. */
export async function s3Error(p: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return { name: e.name, status: e.$metadata.httpStatusCode };
    throw e;
  }
  throw new Error('expected an S3 error');
}

/**
 * Resolves once a server in this process has finished handling a request for `method url` (its handler's
 * promise settled, whether the client stayed or not), through fastify's `fastify.request.handler` tracing
 * channel. Subscribe before sending: a test then knows the server is done with a request whose client
 * hung up, instead of sleeping and hoping.
 */
export function handlerSettled(method: string, url: string): Promise<void> {
  const channel = tracingChannel<unknown, { request: { method: string; url: string } }>('fastify.request.handler');
  return new Promise((resolve) => {
    const subscribers = {
      start: () => {},
      end: () => {},
      asyncStart: () => {},
      error: () => {},
      asyncEnd: (store: { request: { method: string; url: string } }) => {
        if (store.request.method !== method || store.request.url !== url) return;
        channel.unsubscribe(subscribers);
        resolve();
      },
    };
    channel.subscribe(subscribers);
  });
}
