// One request, start to finish, without fastify types: route -> authenticate -> authorize -> decode body
// -> API handler -> response (or S3's XML error). app.ts wires it into fastify.
import type { IncomingMessage } from 'node:http';
import { actualRequestCors, handle, type ApiContext, type ApiLogger, type S3Response } from '../api/index.js';
import { S3Error } from '../errors.js';
import { authenticate } from './authenticate.js';
import { authorize } from './authorize.js';
import type { SigV4Context } from './auth/sigv4.js';
import { decodeBody, emptyBody } from './body.js';
import { errorBody, toS3Error } from './error-response.js';
import { postObject } from './post-object.js';
import { route } from './router.js';

export interface HttpContext {
  api: ApiContext;
  auth: SigV4Context;
  domains: string[];
  hostId: string;
}

/** Operations whose body is object data and so must declare its length. */
const NEEDS_LENGTH = new Set(['PutObject', 'UploadPart']);

function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const i = url.indexOf('?');
  return i < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, i), rawQuery: url.slice(i + 1) };
}

export async function dispatch(ctx: HttpContext, raw: IncomingMessage, requestId: string, log: ApiLogger): Promise<S3Response> {
  const { rawPath, rawQuery } = splitUrl(raw.url ?? '/');
  const method = (raw.method ?? 'GET').toUpperCase();
  let resource = rawPath;
  let bucketForCors: string | undefined;
  try {
    const query = new URLSearchParams(rawQuery);
    const { bucket, op } = route({ method, path: rawPath, query, headers: raw.headers, domains: ctx.domains });
    bucketForCors = bucket;
    resource = bucket === undefined ? '/' : rawPath;
    const virtualBucket = bucket !== undefined && !rawPath.startsWith(`/${encodeURIComponent(bucket)}`) ? bucket : undefined;

    let res: S3Response;
    if (op.name === 'PostObject') {
      res = await postObject(ctx, raw, op.bucket, requestId, log);
    } else {
      const authn = op.name === 'Preflight' ? { payload: { kind: 'unsigned' as const } } : authenticate(ctx.auth, { method, rawPath, rawQuery, query, headers: raw.headers, virtualBucket });
      await authorize(ctx.api.storage, {
        op, identity: authn.identity, headers: raw.headers, query, sourceIp: raw.socket.remoteAddress ?? '', secure: false,
      }, ctx.api.now());
      const hasBody = raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0' || raw.headers['transfer-encoding'] !== undefined;
      const decoded = hasBody || NEEDS_LENGTH.has(op.name)
        ? decodeBody(raw, authn.payload, NEEDS_LENGTH.has(op.name))
        : { body: emptyBody(), size: 0, trailers: new Map<string, string>() };
      res = await handle(ctx.api, {
        op, requestId, method, headers: raw.headers, query, body: decoded.body, size: decoded.size, trailers: decoded.trailers,
        caller: authn.identity ? { accessKey: authn.identity.accessKey, root: authn.identity.root } : undefined, log,
      });
    }
    if (typeof raw.headers.origin === 'string' && bucket !== undefined && op.name !== 'Preflight') {
      Object.assign(res.headers, await actualRequestCors(ctx.api, bucket, raw.headers.origin, method));
    }
    return res;
  } catch (e) {
    const err = toS3Error(e);
    if (err.code === 'InternalError' && !(e instanceof S3Error)) log.error({ err: e }, 'internal error');
    const headers: Record<string, string | number> = { ...((e as { headers?: Record<string, string> }).headers ?? {}) };
    if (typeof raw.headers.origin === 'string' && bucketForCors !== undefined && err.code !== 'CORSForbidden') {
      Object.assign(headers, await actualRequestCors(ctx.api, bucketForCors, raw.headers.origin, method).catch(() => ({})));
    }
    if (method === 'HEAD') return { status: err.status, headers };
    const body = errorBody(err, resource, requestId, ctx.hostId);
    return { status: body.status, headers: { ...headers, 'content-type': 'application/xml' }, body: body.xml };
  }
}

