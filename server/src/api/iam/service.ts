// The entry point of the non-S3 APIs served on the S3 endpoint: the AWS IAM query API (requests signed for
// service `iam`, as Ceph RGW serves it), STS (service `sts`) and MinIO's admin API (/minio/admin/v3/...).
// The HTTP layer has read the body and checked the signature; each action is authorized here (per action and
// resource, by authorize.ts) before it runs.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors.js';
import type { ApiContext, ApiLogger, Caller, RequestAuth, S3Response } from '../types.js';
import { toXml, type XmlValue } from '../xml.js';
import { adminApi } from './admin.js';
import { iamQuery } from './iam-api.js';
import { STS_ACTIONS, stsQuery, UNSIGNED_STS_ACTIONS } from './sts.js';

export interface ServiceRequest {
  kind: 'query' | 'admin';
  /** Admin API: the path after /minio/admin/v3/. */
  adminPath?: string;
  method: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** undefined: the request is not signed. */
  caller?: Caller;
  /** The signer's secret (MinIO encrypts some admin answers with it). */
  secretKey?: string;
  /** The service the signature is for. */
  service?: 's3' | 'iam' | 'sts';
  requestId: string;
  sourceIp: string;
  secure: boolean;
  /** The request's signature and TLS version, for the conditions that read them. */
  auth: RequestAuth;
  log: ApiLogger;
}

/** The parameters of a query request: the form body's, then the URL's. */
export function queryParams(req: ServiceRequest): URLSearchParams {
  const out = new URLSearchParams(req.body.toString('utf8'));
  for (const [k, v] of req.query) if (!out.has(k)) out.set(k, v);
  return out;
}

const NS = { iam: 'https://iam.amazonaws.com/doc/2010-05-08/', sts: 'https://sts.amazonaws.com/doc/2011-06-15/' };

/** `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>...` as the query APIs answer. */
export function queryAnswer(
  service: 'iam' | 'sts',
  action: string,
  result: { [k: string]: XmlValue } | undefined,
  requestId: string,
): S3Response {
  const body: { [k: string]: XmlValue } = {};
  if (result) body[`${action}Result`] = result;
  body.ResponseMetadata = { RequestId: requestId };
  return { status: 200, headers: { 'content-type': 'text/xml' }, body: toXml(`${action}Response`, body, NS[service]) };
}

export async function handleService(ctx: ApiContext, req: ServiceRequest): Promise<S3Response> {
  if (!ctx.iam) throw new S3Error('NotImplemented', 'IAM is not available on this server');
  if (req.kind === 'admin') return adminApi(ctx, req);
  const params = queryParams(req);
  const action = params.get('Action') ?? '';
  if (action === '') throw new S3Error('InvalidAction', 'The request names no Action');
  const sts = STS_ACTIONS.has(action);
  if (!req.caller && !UNSIGNED_STS_ACTIONS.has(action)) {
    throw new S3Error('AccessDenied', `${action.slice(0, 64)} needs a signed request`);
  }
  if (req.caller && req.service !== (sts ? 'sts' : 'iam')) {
    throw new S3Error('InvalidClientTokenId', `${action} must be signed for the ${sts ? 'sts' : 'iam'} service`);
  }
  return sts ? stsQuery(ctx, req, action, params) : iamQuery(ctx, req, action, params);
}
