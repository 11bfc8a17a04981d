// The fastify application: one catch-all route (S3's routing is by query and headers, done by router.ts),
// request bodies left as raw streams for the handlers, responses streamed, health endpoints, request ids.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { dispatch, type HttpContext, splitUrl } from './dispatch.js';
import { tlsVersionOf } from './tls.js';
import { RequestLog } from './request-log.js';
import { S3Error } from '../errors.js';
import { isAllowedOutsideBuckets } from '../api/authorize.js';
import { errorBody, serviceErrorBody, toS3Error } from './error-response.js';
import { discardUnread } from './body.js';
import { isRecycling, sendRecycling } from './send-body.js';
import { METRICS_PATHS, type ServerMetrics } from './metrics.js';
import { type PrometheusAuthType, type TokenIssuer, validPrometheusToken } from './metrics-auth.js';
import { traceEntry, type TraceHub } from '../api/index.js';
import { type ConsoleFiles, isConsoleRequest } from './console.js';

const HEALTH = new Set(['/health/live', '/health/ready', '/minio/health/live', '/minio/health/ready']);
/** Quorum health, as MinIO answers it: write quorum (and read quorum) of every erasure set. */
const CLUSTER_HEALTH = new Set(['/minio/health/cluster', '/minio/health/cluster/read']);
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH'] as const;

export interface AppOptions {
  logger: Logger;
  /** Called by /health/ready; false answers 503. */
  ready?: () => boolean;
  /** Serve HTTPS with these options (certificates, minimum version, SNI); plain HTTP when absent. */
  https?: SecureContextOptions & { SNICallback?: unknown };
  /** The worker slot of a multi-worker server, sent as `x-cairn-worker` (tests direct requests by it). */
  worker?: number;
  /** Serve /minio/v2/metrics/* (and count S3 requests into it), with who may read them. */
  metrics?: { series: ServerMetrics; auth: PrometheusAuthType };
  /** Answered requests go to it while someone traces them (the admin API's trace). */
  trace?: TraceHub;
  /** Internode requests (the storage RPC) this node answers beside S3: handed over raw, before any S3 rule. */
  internode?: InternodeHandler;
  /** The web console's files, served at /console/ to unsigned GET/HEAD requests. */
  console?: ConsoleFiles;
}

/** The requests of another protocol served on the same port (matched on the URL, answered on the raw objects). */
export interface InternodeHandler {
  matches(url: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** Bytes of an answer's body (0 for HEAD; unknown, so 0, for a stream of no declared length). */
function sentBytes(method: string, res: { headers: Record<string, unknown>; body?: unknown }): number {
  if (method === 'HEAD' || res.body === undefined) return 0;
  const length = res.headers['content-length'];
  if (length !== undefined) return Number(length) || 0;
  if (typeof res.body === 'string') return Buffer.byteLength(res.body);
  return Buffer.isBuffer(res.body) ? res.body.length : 0;
}

/**
 * S3-style request id: 16 upper-case hex characters, a random per-process half and a counter (unique
 * within a run without drawing random bytes for every request).
 */
const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let idCounter = 0;
const requestId = (): string =>
  ID_PREFIX + (idCounter = (idCounter + 1) >>> 0).toString(16).toUpperCase().padStart(8, '0');

/**
 * A request URL as logged: credentials in it (a presigned request's session token, an LDAP password, a web
 * identity token) are left out.
 */
export function loggableUrl(url: string): string {
  return url.replace(/([?&](?:x-amz-security-token|ldappassword|webidentitytoken)=)[^&]*/gi, '$1(redacted)');
}

/** What a request's log line says of it (fastify's fields, the URL without session tokens). */
const requestForLog = (req: {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}) => ({
  method: req.method,
  url: loggableUrl(req.url),
  host: req.host,
  remoteAddress: req.ip,
  remotePort: req.socket?.remotePort,
});

type SetState = Awaited<ReturnType<HttpContext['api']['storage']['storageState']>>[number];

/**
 * MinIO's cluster health: 200 while every erasure set has its write quorum of drives online (`/read`: its read
 * quorum, the data drives), 503 otherwise; x-minio-write-quorum (x-minio-read-quorum) and, when drives are being
 * rebuilt, x-minio-healing-drives. `?maintenance=true` asks whether this node may be taken down: its own drives
 * are not counted, and any drive being rebuilt makes it unsafe; unsafe is 412. A single node is never safe to
 * take down; a distributed one is while the other nodes' drives keep every set's quorum.
 */
async function clusterHealth(ctx: HttpContext, read: boolean, url: string, reply: FastifyReply): Promise<FastifyReply> {
  const sets = await ctx.api.storage.storageState();
  const maintenance = new URLSearchParams(url.split('?')[1] ?? '').get('maintenance') === 'true';
  const counted = (d: SetState['drives'][number]) => d.online && !(maintenance && d.local);
  const quorum = (s: SetState) => (read ? s.data : s.writeQuorum);
  const healing = sets.reduce((n, s) => n + s.drives.filter((d) => d.online && d.healing).length, 0);
  const healthy = sets.every((s) => s.drives.filter(counted).length >= quorum(s)) && !(maintenance && healing > 0);
  reply.header(read ? 'x-minio-read-quorum' : 'x-minio-write-quorum', String(Math.max(...sets.map(quorum))));
  if (healing > 0) reply.header('x-minio-healing-drives', String(healing));
  return reply.code(healthy ? 200 : maintenance ? 412 : 503).send();
}

export function buildApp(ctx: HttpContext, opts: AppOptions): FastifyInstance {
  const app = Fastify({
    ...(opts.https ? { https: opts.https as Record<string, unknown> } : {}),
    // The request serializer is set once here, not on each request's child logger (a child given serializers
    // rebuilds its serializer table: per request, for nothing).
    loggerInstance: opts.logger.child({}, { serializers: { req: requestForLog } }) as FastifyBaseLogger,
    logController: new RequestLog(),
    genReqId: requestId,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
    // S3 keys can be long and full of odd characters; routing is ours, fastify only passes requests on.
    routerOptions: { maxParamLength: 8192, ignoreDuplicateSlashes: false, ignoreTrailingSlash: false },
    // Requests Node's parser refuses (header section over 16 KiB, malformed framing) still get S3's XML.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return socket.destroy();
      const code = (err as { code?: string }).code;
      const s3 =
        code === 'HPE_HEADER_OVERFLOW'
          ? new S3Error('RequestHeaderSectionTooLarge')
          : new S3Error('InvalidRequest', 'The request could not be parsed.');
      const id = requestId();
      const xml = errorBody(s3, '', id, ctx.hostId).xml;
      socket.end(
        `HTTP/1.1 ${s3.status} Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\nx-amz-request-id: ${id}\r\nConnection: close\r\n\r\n${xml}`,
      );
    },
    // URLs fastify itself cannot parse (bad percent-escapes): S3 says InvalidURI.
    frameworkErrors: (_err, req, reply) => {
      const body = errorBody(new S3Error('InvalidURI'), req.url, req.id, ctx.hostId);
      void (reply as FastifyReply)
        .code(body.status)
        .header('x-amz-request-id', req.id)
        .type('application/xml')
        .send(body.xml);
    },
  });

  // Internode requests (the storage RPC between nodes) go to their handler before fastify sees them: no request
  // log lines, hooks or routing for what is not S3.
  const internode = opts.internode;
  if (internode) {
    const fastifyHandlers = app.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    app.server.removeAllListeners('request');
    app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (internode.matches(req.url?.split('?')[0] ?? '/')) return internode.handle(req, res);
      for (const h of fastifyHandlers) h.call(app.server, req, res);
    });
  }

  // Expect: 100-continue is answered only once a handler wants the body, so a request refused by
  // authentication never has its body sent (Node would otherwise say "100 Continue" at once).
  const awaitingContinue = new WeakMap<IncomingMessage, ServerResponse>();
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    awaitingContinue.set(req, res);
    app.server.emit('request', req, res);
  });
  const sendContinue = (req: IncomingMessage) => {
    const res = awaitingContinue.get(req);
    if (res) {
      awaitingContinue.delete(req);
      res.writeContinue();
    }
  };

  // Leave every body as the raw request stream: handlers stream it to storage (never buffered whole).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  // While shutting down, answers in flight close their connection so the process can exit.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  const worker = opts.worker === undefined ? undefined : String(opts.worker);
  const metrics = opts.metrics;
  const trace = opts.trace;
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-amz-request-id', req.id);
    reply.header('x-amz-id-2', ctx.hostId);
    reply.header('server', 'Cairn');
    if (worker) reply.header('x-cairn-worker', worker);
  });

  app.route({
    method: [...METHODS],
    url: '/*',
    handler: async (req, reply) => {
      const path = req.raw.url?.split('?')[0] ?? '/';
      if (
        opts.console &&
        isConsoleRequest(req.method, path, req.raw.url?.split('?')[1] ?? '', req.headers.authorization)
      ) {
        const page = await opts.console.answer(req.method, path);
        return reply.code(page.status).headers(page.headers).send(page.body);
      }
      if (
        HEALTH.has(path) &&
        (req.method === 'GET' || req.method === 'HEAD') &&
        req.headers.authorization === undefined
      ) {
        const ok = !path.endsWith('/ready') || (opts.ready?.() ?? true);
        return reply.code(ok ? 200 : 503).send();
      }
      if (
        CLUSTER_HEALTH.has(path) &&
        (req.method === 'GET' || req.method === 'HEAD') &&
        req.headers.authorization === undefined
      ) {
        return clusterHealth(ctx, path.endsWith('/read'), req.raw.url ?? '', reply);
      }
      const scope = METRICS_PATHS.get(path as never);
      if (scope && metrics && req.method === 'GET') {
        const issuerOf = (accessKey: string): TokenIssuer | undefined => {
          const id = ctx.auth.credentials.lookup(accessKey);
          if (!id) return undefined;
          const access = {
            caller: id.caller,
            headers: req.headers,
            query: new URLSearchParams(),
            sourceIp: req.raw.socket.remoteAddress ?? '',
            secure: (req.raw.socket as TLSSocket).encrypted === true,
            // A bearer token, not an S3 signature: no s3:signatureversion nor s3:authType.
            auth: { tlsVersion: tlsVersionOf(req.raw.socket) },
          };
          return {
            secretKey: id.secretKey,
            mayScrape: () => isAllowedOutsideBuckets(ctx.api, access, 'admin:Prometheus', 'arn:aws:s3:::*'),
          };
        };
        if (metrics.auth !== 'public' && !(await validPrometheusToken(req.headers.authorization, issuerOf))) {
          // MinIO's answer to a missing or bad token: the admin API's AccessDenied.
          const denied = serviceErrorBody(new S3Error('AccessDenied'), 'admin', req.id);
          return reply.code(denied.status).headers(denied.headers).send(denied.body);
        }
        const { contentType, text } = await metrics.series.render(scope);
        return reply.code(200).type(contentType).send(text);
      }
      // Read once: a request already in flight when someone starts tracing is not traced.
      const tracing = trace?.active === true;
      const startedAt = tracing ? Date.now() : 0;
      const started = metrics || tracing ? performance.now() : 0;
      const routed: { operation: string; traceName?: string; bucket?: string } = { operation: '' };
      const res = await dispatch(ctx, req.raw, req.id, req.log, () => sendContinue(req.raw), routed);
      reply.code(res.status);
      if (res.afterSend) reply.raw.once('close', res.afterSend);
      if (tracing) {
        const firstByteMs = performance.now();
        const inputBytes = Number(req.headers['content-length'] ?? 0) || 0;
        const outputBytes = sentBytes(req.method, res);
        reply.raw.once('close', () => {
          const { rawPath, rawQuery } = splitUrl(req.raw.url ?? '/');
          const entry = traceEntry(trace!.nodeName, {
            funcName: routed.traceName ?? 's3.Unrouted',
            method: req.method,
            rawPath,
            rawQuery,
            headers: req.headers,
            client: req.raw.socket.remoteAddress ?? '',
            httpVersion: req.raw.httpVersion,
            status: res.status,
            startedAt,
            startMs: started,
            firstByteMs,
            endMs: performance.now(),
            inputBytes: req.raw.complete ? inputBytes : 0,
            outputBytes,
          });
          trace!.publish(entry);
        });
      }
      // An answer given before the request body was read (an early error): a small rest is read and thrown
      // away so the connection stays usable; a large one, or a body still held back by Expect: 100-continue,
      // closes the connection (the unread rest could not be told apart from the next request).
      if (!req.raw.complete && (awaitingContinue.has(req.raw) || !(await discardUnread(req.raw)))) {
        reply.header('connection', 'close');
      }
      if (metrics && routed.operation !== '') {
        const length = req.raw.complete ? Number(req.headers['content-length'] ?? 0) || 0 : 0;
        const ttfb = (performance.now() - started) / 1000;
        metrics.series.record(routed.operation, routed.bucket, res.status, ttfb, length, sentBytes(req.method, res));
      }
      for (const [k, v] of Object.entries(res.headers)) {
        // Header strings go out as latin1, one byte per character: stored headers are kept as the bytes the
        // client sent (dispatch.ts); text beyond latin1 goes as its UTF-8 bytes.
        reply.header(
          k,
          typeof v === 'string' && /[^\x00-\xff]/.test(v) ? Buffer.from(v, 'utf8').toString('latin1') : v,
        );
      }
      if (res.body === undefined) {
        if (req.method === 'HEAD' && res.headers['content-length'] !== undefined) return reply.send();
        if (res.status !== 204 && res.status !== 304) reply.header('content-length', 0);
        return reply.send();
      }
      if (isRecycling(res.body) && req.method === 'GET') {
        if (closing) reply.header('connection', 'close'); // what the onSend hook does for sent replies
        return sendRecycling(reply, res.body);
      }
      return reply.send(res.body);
    },
  });

  app.setErrorHandler((err, req, reply) => {
    req.log.error({ err }, 'unhandled error');
    const body = errorBody(toS3Error(err), req.url, req.id, ctx.hostId);
    void reply.code(body.status).type('application/xml').send(body.xml);
  });
  return app;
}
