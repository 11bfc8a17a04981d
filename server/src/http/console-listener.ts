// The console's own address (`cairn server --console-address`, CAIRN_CONSOLE_ADDRESS as MinIO's
// MINIO_CONSOLE_ADDRESS): a second listener in front of the same fastify app. The page's S3 and admin calls go to
// its own origin, so this listener serves them too, with the same authentication and authorization: no proxy, no
// CORS to open, no cookie. Only `/` differs: an unsigned GET/HEAD of it is sent to /console/ (MinIO's console
// answers at the root of its port).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttp } from '../node-http.js';
import { createServer as createHttps } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { FastifyInstance } from 'fastify';

export interface ConsoleListener {
  /** The port it listens on (the one picked when asked for port 0). */
  port: number;
  /** Stops accepting; idle connections close, busy ones after their answer (or at `force`). */
  close(): Promise<void>;
  /** Cuts every connection left (the grace period is over). */
  force(): void;
}

/** An unsigned GET or HEAD of `/`: someone opening the console's address in a browser. */
function isRoot(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.url === '/' && req.headers.authorization === undefined;
}

/**
 * Listens on `host:port` and hands every request to `app`'s server, as if it had arrived there: the same hooks,
 * routing, limits and answers. `https`: the same certificates as the S3 address (the caller attaches the server
 * to their reloads).
 */
export async function listenConsole(
  app: FastifyInstance,
  at: { host: string; port: number; reusePort?: boolean; exclusive?: boolean },
  https?: SecureContextOptions,
): Promise<{ listener: ConsoleListener; server: Server }> {
  const s3 = app.server;
  const server: Server = https ? createHttps(https as never) : createHttp();
  const forward =
    (event: 'request' | 'checkContinue') =>
    (req: IncomingMessage, res: ServerResponse): void => {
      if (isRoot(req)) {
        res.writeHead(302, { location: '/console/', 'content-length': '0', 'cache-control': 'no-store' });
        res.end();
        return;
      }
      s3.emit(event, req, res);
    };
  server.on('request', forward('request'));
  server.on('checkContinue', forward('checkContinue'));
  // Requests Node's parser refuses get the S3 address's answer (app.ts clientErrorHandler).
  server.on('clientError', (err: Error, socket: Socket) => s3.emit('clientError', err, socket));
  // fastify's settings for its own server (app.ts, fastify's defaults): long uploads are not cut.
  server.keepAliveTimeout = s3.keepAliveTimeout;
  server.requestTimeout = s3.requestTimeout;
  server.headersTimeout = s3.headersTimeout;
  server.timeout = s3.timeout;
  server.maxRequestsPerSocket = s3.maxRequestsPerSocket;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : at.port;
  const listener: ConsoleListener = {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    force: () => server.closeAllConnections(),
  };
  return { listener, server };
}
