// One request, start to finish, without fastify types: route -> authenticate (who is asking) -> the API
// (which authorizes, then asks for the body: decoded here) -> response (or S3's XML error). app.ts wires it
// into fastify. This layer decides who a request comes from, never what it may do.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  actualRequestCors,
  handle,
  handleService,
  type ApiContext,
  type ApiLogger,
  type DecodedBody,
  type Endpoint,
  type S3Response,
} from '../api/index.js';
import { S3Error } from '../errors.js';
import { authenticate } from './authenticate.js';
import type { SigV4Context } from './auth/sigv4.js';
import type { HeaderValues } from './auth/canonical.js';
import { decodeBody, emptyBody, readLimited } from './body.js';
import { errorBody, serviceErrorBody, toS3Error } from './error-response.js';
import { postObject } from './post-object.js';
import { route } from './router.js';
import type { LoginLimiter } from '../api/iam/login-limit.js';
import { tlsVersionOf } from './tls.js';

export interface HttpContext {
  api: ApiContext;
  auth: SigV4Context;
  domains: string[];
  hostId: string;
  /** Failed logins per source address (LDAP's and signed STS AssumeRole's, the console's login); none: unlimited. */
  logins?: LoginLimiter;
}

/** Operations whose body is object data and so must declare its length. */
const NEEDS_LENGTH = new Set(['PutObject', 'UploadPart']);

/**
 * Node gives header bytes as latin1 strings (one character per byte). Signatures and the headers Cairn reads
 * (copy source, conditions, ...) want the text the client meant: values that are valid UTF-8 are decoded as
 * UTF-8, as the SDKs sign them.
 */
function utf8Value(v: string): string {
  if (!/[\x80-\xff]/.test(v)) return v;
  const decoded = Buffer.from(v, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? v : decoded;
}

/**
 * Headers stored and given back as they came (user metadata, Content-*) keep their bytes, so every client
 * reads back what it wrote: Go clients send UTF-8 bytes, Node's and Python's send latin1 bytes for
 * characters below U+0100, and app.ts writes the stored bytes back unchanged.
 */
const STORED_AS_SENT = new Set([
  'content-type',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
]);
const storedAsSent = (name: string): boolean => name.startsWith('x-amz-meta-') || STORED_AS_SENT.has(name);

function utf8Headers(headers: IncomingHttpHeaders, keepStored = false): IncomingHttpHeaders {
  let out: IncomingHttpHeaders | undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v !== 'string' || (keepStored && storedAsSent(k))) continue;
    const decoded = utf8Value(v);
    if (decoded === v) continue;
    out ??= { ...headers };
    out[k] = decoded;
  }
  return out ?? headers;
}

/** The values of a header sent several times, each as sent (Node joins them with ', ' in `headers`). */
function distinctValues(raw: IncomingMessage): HeaderValues {
  return (name) => raw.headersDistinct[name]?.map(utf8Value);
}

/** The scheme and host the client used (Cairn serves plain HTTP; a TLS proxy in front says so). */
export function endpointOf(headers: IncomingHttpHeaders, virtualHost: boolean): Endpoint {
  const proto = headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  const sent = headers.host;
  const host = typeof sent === 'string' && /^[A-Za-z0-9.:[\]-]+$/.test(sent) ? sent : 'localhost';
  return { base: `${proto}://${host}`, virtualHost };
}

/** Query parameters of a presigned SigV4 URL that belong to the signature itself. */
const PRESIGN_PARAMS = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
  'x-amz-content-sha256',
  'x-amz-security-token',
]);

/**
 * A presigned SigV4 URL carries the request's other `x-amz-*` headers as query parameters when the signer hoists
 * them (the JS SDK's presigner does for x-amz-acl, x-amz-meta-*, x-amz-tagging, x-amz-checksum-*, ...): they are
 * signed as part of the query, and S3 takes them as headers. `both` names those also sent as headers (refused
 * once authentication has had its say on the headers).
 */
function withHoistedHeaders(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
): { headers: IncomingHttpHeaders; both: string[] } {
  const both: string[] = [];
  if (!query.has('X-Amz-Signature')) return { headers, both };
  let out: IncomingHttpHeaders | undefined;
  for (const [name, value] of query) {
    const h = name.toLowerCase();
    if (!h.startsWith('x-amz-') || PRESIGN_PARAMS.has(h)) continue;
    if (headers[h] !== undefined || out?.[h] !== undefined) both.push(name);
    out ??= { ...headers };
    // Stored headers (user metadata) are kept as the bytes sent (see storedAsSent): the UTF-8 of the parameter.
    out[h] = storedAsSent(h) ? Buffer.from(value, 'utf8').toString('latin1') : value;
  }
  return { headers: out ?? headers, both };
}

export function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const i = url.indexOf('?');
  return i < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, i), rawQuery: url.slice(i + 1) };
}

/** Largest body of an IAM, STS or admin request (policy documents are at most 20 KB). */
const SERVICE_BODY_LIMIT = 1024 * 1024;

/**
 * IAM, STS and MinIO admin requests: the body is read first (IAM and STS SDKs sign its hash without sending
 * it in a header), then the signature is checked, then api/iam/service.ts authorizes and answers.
 */
async function dispatchService(
  ctx: HttpContext,
  raw: IncomingMessage,
  requestId: string,
  log: ApiLogger,
  input: { method: string; rawPath: string; rawQuery: string; query: URLSearchParams; headers: IncomingHttpHeaders },
  op: { name: 'ServiceQuery' } | { name: 'AdminApi'; path: string },
): Promise<S3Response> {
  const body = await readLimited(decodeBody(raw, { kind: 'unsigned' }, false).body, SERVICE_BODY_LIMIT);
  const hash = createHash('sha256').update(body).digest('hex');
  const declared = input.headers['x-amz-content-sha256'];
  if (typeof declared === 'string' && declared !== 'UNSIGNED-PAYLOAD' && declared !== hash) {
    throw new S3Error('XAmzContentSHA256Mismatch');
  }
  const source = raw.socket.remoteAddress ?? '';
  const login = op.name === 'ServiceQuery' && ctx.logins !== undefined && isAssumeRole(input.query, body);
  // A source that failed too often lately is refused before its signature is checked (no oracle meanwhile).
  if (login && ctx.logins!.refused(source)) {
    throw new S3Error('AccessDenied', 'Too many failed sign-ins from this address: try again in a minute.');
  }
  let authn: ReturnType<typeof authenticate>;
  try {
    authn = authenticate(ctx.auth, { ...input, valuesOf: distinctValues(raw), payloadHash: hash });
  } catch (e) {
    // A wrong secret (or access key) guessed at through STS, the console's login, counts as a failed login.
    if (login && e instanceof S3Error && BAD_CREDENTIALS.has(e.code)) await ctx.logins!.failed(source).catch(() => {});
    throw e;
  }
  return handleService(ctx.api, {
    kind: op.name === 'AdminApi' ? 'admin' : 'query',
    adminPath: op.name === 'AdminApi' ? op.path : undefined,
    method: input.method,
    query: input.query,
    headers: input.headers,
    body,
    caller: authn.identity?.caller,
    secretKey: authn.identity?.secretKey,
    service: authn.identity ? authn.service : undefined,
    requestId,
    sourceIp: raw.socket.remoteAddress ?? '',
    secure: (raw.socket as TLSSocket).encrypted === true,
    auth: { signature: authn.signature, tlsVersion: tlsVersionOf(raw.socket) },
    log,
  });
}

/** Signature failures that mean a wrong secret or an unknown access key. */
const BAD_CREDENTIALS = new Set(['SignatureDoesNotMatch', 'InvalidAccessKeyId']);

const QUORUM_CODES = new Set(['InsufficientReadQuorum', 'InsufficientWriteQuorum']);

/** A signed STS AssumeRole (its Action in the form body, as the SDKs send it, or in the query). */
function isAssumeRole(query: URLSearchParams, body: Buffer): boolean {
  const action = query.get('Action') ?? new URLSearchParams(body.toString('latin1')).get('Action');
  return action === 'AssumeRole';
}

/** S3 operations that the S3 request metrics count (not IAM, STS or the admin API, as MinIO). */
const UNCOUNTED = new Set(['ServiceQuery', 'AdminApi']);

/**
 * `wantBody` tells a client waiting on Expect: 100-continue to send the body (a no-op otherwise); `routed`
 * is told the S3 operation once the request is routed (left '' for IAM, STS and admin requests), the bucket it
 * names, and the name a trace shows (`s3.GetObject`, `admin.info`).
 */
export async function dispatch(
  ctx: HttpContext,
  raw: IncomingMessage,
  requestId: string,
  log: ApiLogger,
  wantBody: () => void = () => {},
  routed?: { operation: string; traceName?: string; bucket?: string },
): Promise<S3Response> {
  const { rawPath, rawQuery } = splitUrl(raw.url ?? '/');
  const method = (raw.method ?? 'GET').toUpperCase();
  let resource = rawPath;
  const signedHeaders = utf8Headers(raw.headers);
  let headers = signedHeaders;
  let bucketForCors: string | undefined;
  // IAM/STS and admin requests answer errors in their own formats.
  let service: 'query' | 'admin' | undefined;
  try {
    const query = new URLSearchParams(rawQuery);
    const { headers: hoisted, both } = withHoistedHeaders(raw.headers, query);
    headers = hoisted === raw.headers ? signedHeaders : utf8Headers(hoisted);
    const { bucket, op } = route({ method, path: rawPath, query, headers, domains: ctx.domains });
    bucketForCors = bucket;
    if (routed) {
      if (!UNCOUNTED.has(op.name)) {
        routed.operation = op.name;
        routed.bucket = bucket;
      }
      routed.traceName = op.name === 'AdminApi' ? `admin.${op.path}` : `s3.${op.name}`;
    }
    resource = bucket === undefined ? '/' : rawPath;
    const virtualBucket =
      bucket !== undefined && !rawPath.startsWith(`/${encodeURIComponent(bucket)}`) ? bucket : undefined;

    let res: S3Response;
    if (op.name === 'ServiceQuery' || op.name === 'AdminApi') {
      service = op.name === 'AdminApi' ? 'admin' : 'query';
      wantBody();
      const input = { method, rawPath, rawQuery, query, headers: signedHeaders };
      res = await dispatchService(ctx, raw, requestId, log, input, op);
    } else if (op.name === 'PostObject') {
      wantBody();
      res = await postObject(ctx, raw, op.bucket, requestId, log, endpointOf(headers, virtualBucket !== undefined));
    } else {
      const authn =
        op.name === 'Preflight'
          ? { payload: { kind: 'unsigned' as const }, identity: undefined, signature: undefined }
          : authenticate(ctx.auth, {
              method,
              rawPath,
              rawQuery,
              query,
              headers: signedHeaders,
              valuesOf: distinctValues(raw),
              virtualBucket,
            });
      if (both.length > 0) {
        throw new S3Error('InvalidArgument', `${both[0]} is given both as a header and as a query parameter`, {
          ArgumentName: both[0],
        });
      }
      // Called by the API once the request is authorized.
      const openBody = (): DecodedBody => {
        const length = headers['content-length'];
        const hasBody = (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
        if (hasBody) wantBody();
        return hasBody || NEEDS_LENGTH.has(op.name)
          ? decodeBody(raw, authn.payload, NEEDS_LENGTH.has(op.name))
          : { body: emptyBody(), size: 0, trailers: new Map<string, string>() };
      };
      res = await handle(ctx.api, {
        op,
        requestId,
        method,
        headers: utf8Headers(hoisted, true),
        query,
        openBody,
        log,
        sourceIp: raw.socket.remoteAddress ?? '',
        secure: (raw.socket as TLSSocket).encrypted === true,
        auth: { signature: authn.signature, tlsVersion: tlsVersionOf(raw.socket) },
        caller: authn.identity?.caller,
        endpoint: endpointOf(headers, virtualBucket !== undefined),
      });
    }
    if (typeof headers.origin === 'string' && bucket !== undefined && op.name !== 'Preflight') {
      Object.assign(res.headers, await actualRequestCors(ctx.api, bucket, headers.origin, method, headers));
    }
    return res;
  } catch (e) {
    const err = toS3Error(e);
    if (err.code === 'InternalError' && !(e instanceof S3Error)) log.error({ err: e }, 'internal error');
    // A server-side failure with a cause kept from the client (the KMS's address, say) is logged with it.
    else if (err.status >= 500 && err.cause !== undefined) log.error({ code: err.code, cause: err.cause }, err.message);
    // Too few drives: probe them again before answering (a probe that does not answer is given up after the
    // drive check's timeout, 5 s), so that the client's retry finds a drive or node that has come back.
    if (QUORUM_CODES.has(err.code)) await ctx.api.storage.recheckDrives?.();
    const errHeaders: Record<string, string | number> = { ...err.headers };
    if (typeof raw.headers.origin === 'string' && bucketForCors !== undefined && err.code !== 'CORSForbidden') {
      const cors = await actualRequestCors(ctx.api, bucketForCors, raw.headers.origin, method, raw.headers).catch(
        () => ({}),
      );
      Object.assign(errHeaders, cors);
    }
    if (method === 'HEAD') return { status: err.status, headers: errHeaders };
    if (service !== undefined) return serviceErrorBody(err, service, requestId);
    const body = errorBody(err, resource, requestId, ctx.hostId);
    return { status: body.status, headers: { ...errHeaders, 'content-type': 'application/xml' }, body: body.xml };
  }
}
