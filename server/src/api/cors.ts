// Bucket CORS: the configuration document, preflight (OPTIONS) answers, and the headers added to actual
// requests whose Origin a rule allows.
import { S3Error } from '../errors.js';
import { bucketSettings, type BucketSettings } from './bucket-settings.js';
import { readDocument } from './request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { many, parseXml, str, toXml } from './xml.js';

export interface CorsRule {
  id?: string;
  origins: string[];
  methods: string[];
  /** AllowedHeader values as put (GetBucketCors gives them back so). */
  headers: string[];
  /** The same, lower-cased: header names match case-insensitively. */
  headerPatterns: string[];
  expose: string[];
  maxAge?: number;
}

const METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE']);

export function parseCors(xml: string): CorsRule[] {
  const doc = parseXml(xml, 'CORSConfiguration');
  const rules = many(doc.CORSRule).map((r) => {
    const o = r as Record<string, unknown>;
    const list = (v: unknown) => many(v).map((x) => str(x) ?? '');
    const headers = list(o.AllowedHeader);
    const rule: CorsRule = {
      id: str(o.ID),
      origins: list(o.AllowedOrigin),
      methods: list(o.AllowedMethod),
      headers,
      headerPatterns: headers.map((h) => h.toLowerCase()),
      expose: list(o.ExposeHeader),
      maxAge: o.MaxAgeSeconds !== undefined ? Number(str(o.MaxAgeSeconds)) : undefined,
    };
    if (rule.origins.length === 0 || rule.methods.length === 0) throw new S3Error('MalformedXML');
    for (const m of rule.methods)
      if (!METHODS.has(m))
        throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    for (const origin of rule.origins)
      if ((origin.match(/\*/g) ?? []).length > 1)
        throw new S3Error('InvalidRequest', `AllowedOrigin "${origin}" can not have more than one wildcard.`);
    return rule;
  });
  if (rules.length === 0 || rules.length > 100) throw new S3Error('MalformedXML');
  return rules;
}

/** `*` matches any run of characters (one wildcard per pattern, as S3 allows). */
function wildcard(pattern: string, value: string): boolean {
  const i = pattern.indexOf('*');
  if (i < 0) return pattern === value;
  const pre = pattern.slice(0, i);
  const post = pattern.slice(i + 1);
  return value.length >= pre.length + post.length && value.startsWith(pre) && value.endsWith(post);
}

export function matchRule(
  rules: CorsRule[],
  origin: string,
  method: string,
  requestHeaders: string[],
): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.origins.some((o) => wildcard(o, origin)) &&
      r.methods.includes(method) &&
      requestHeaders.every((h) => r.headerPatterns.some((p) => wildcard(p, h.toLowerCase()))),
  );
}

export function corsHeaders(
  rule: CorsRule,
  origin: string,
  method: string,
  preflight: boolean,
): Record<string, string> {
  const h: Record<string, string> = {
    'access-control-allow-origin': rule.origins.includes('*') ? '*' : origin,
    'access-control-allow-methods': rule.methods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!rule.origins.includes('*')) h['access-control-allow-credentials'] = 'true';
  if (rule.expose.length) h['access-control-expose-headers'] = rule.expose.join(', ');
  if (preflight && rule.maxAge !== undefined) h['access-control-max-age'] = String(rule.maxAge);
  void method;
  return h;
}

/** The comma-separated Access-Control-Request-Headers list, trimmed. */
const requestedHeaders = (v: unknown): string[] =>
  String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Headers for an actual (non-preflight) request with an Origin; empty when no rule matches. Like S3, a request
 * that also carries Access-Control-Request-Method (and -Headers) is matched on those, not on its own method.
 */
export async function actualRequestCors(
  ctx: ApiContext,
  bucket: string,
  origin: string,
  method: string,
  headers: Record<string, string | string[] | undefined> = {},
): Promise<Record<string, string>> {
  let s: BucketSettings;
  try {
    s = await bucketSettings(ctx, bucket);
  } catch {
    return {}; // no bucket (or it cannot be read): the answer goes out without CORS headers
  }
  if (!s.cors) return {};
  const asked = headers['access-control-request-method'];
  const matchMethod = typeof asked === 'string' ? asked : method;
  const askedHeaders = typeof asked === 'string' ? requestedHeaders(headers['access-control-request-headers']) : [];
  const rule = matchRule(s.cors, origin, matchMethod, askedHeaders);
  return rule ? corsHeaders(rule, origin, matchMethod, false) : {};
}

export async function preflight(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  // As S3: a preflight without Origin is a bad request (400); one without a request method is refused (403).
  if (typeof origin !== 'string')
    throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  if (typeof method !== 'string') throw new S3Error('CORSForbidden', 'Invalid Access-Control-Request-Method header.');
  const { cors } = await bucketSettings(ctx, bucket);
  if (!cors) {
    throw new S3Error(
      'CORSForbidden',
      'CORSResponse: This CORS request is not allowed. This is usually because the ' +
        'evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are ' +
        "not whitelisted by the resource's CORS spec.",
    );
  }
  const reqHeaders = requestedHeaders(req.headers['access-control-request-headers']);
  const rule = matchRule(cors, origin, method, reqHeaders);
  if (!rule) throw new S3Error('CORSForbidden');
  const h = corsHeaders(rule, origin, method, true);
  // The requested headers come back lower-cased, as S3 answers them.
  if (reqHeaders.length) h['access-control-allow-headers'] = reqHeaders.map((r) => r.toLowerCase()).join(', ');
  return emptyResponse(200, h);
}

export async function getBucketCors(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const { config } = await bucketSettings(ctx, bucket);
  if (!config.cors) throw new S3Error('NoSuchCORSConfiguration');
  return xmlResponse(config.cors);
}

export async function putBucketCors(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const rules = parseCors(await readDocument(req, 64 * 1024));
  const xml = toXml('CORSConfiguration', {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.headers,
      AllowedMethod: r.methods,
      AllowedOrigin: r.origins,
      ExposeHeader: r.expose,
      MaxAgeSeconds: r.maxAge,
    })),
  });
  await ctx.storage.updateBucketConfig(bucket, { cors: xml });
  return emptyResponse(200);
}

export async function deleteBucketCors(ctx: ApiContext, bucket: string): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  await ctx.storage.updateBucketConfig(bucket, { cors: null });
  return emptyResponse(204);
}
