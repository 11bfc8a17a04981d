// POST policy form uploads (browser uploads): the form is read as a stream (form-data.ts), the policy
// document and its signature (SigV4 or SigV2) are checked, every condition must hold and every field must
// be covered by a condition, then the file streams into an ordinary PutObject.
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Transform, type TransformCallback } from 'node:stream';
import {
  asHeaderBytes,
  handle,
  objectUrl,
  toXml,
  type ApiLogger,
  type Endpoint,
  type S3Response,
} from '../api/index.js';
import { S3Error } from '../errors.js';
import { deriveSigningKey } from '../sigv4-sign.js';
import { hmac, parseAmzDate, sameSignature } from './auth/canonical.js';
import { checkRegion, type SigV4Context } from './auth/sigv4.js';
import { resolveSigner, type Identity } from './auth/credentials.js';
import { jsonDepthWithin } from '../api/json-depth.js';
import { parseTaggingXml, tagsToQuery } from '../api/tags.js';
import type { HttpContext } from './dispatch.js';
import { through } from './body.js';
import { boundaryOf, readForm, type FormUpload } from './form-data.js';
import { tlsVersionOf } from './tls.js';
import type { SignatureFacts } from '../api/types.js';

/** Fields that sign the form rather than describe the object. */
const AUTH_FIELDS = new Set([
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-algorithm',
  'x-amz-date',
  'x-amz-security-token',
]);
const CONTENT_FIELDS = new Set([
  'content-type',
  'content-disposition',
  'content-encoding',
  'cache-control',
  'expires',
  'content-md5',
]);

/** Fields that need no policy condition. */
const EXEMPT = new Set(['policy', 'x-amz-signature', 'signature', 'awsaccesskeyid', 'file', 'x-amz-security-token']);

type Condition = { op: 'eq' | 'starts-with'; field: string; value: string } | { op: 'range'; min: number; max: number };

function policyError(msg: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${msg}`);
}

/** Deepest a POST policy can legitimately nest: document > conditions > one condition (array or object). */
const MAX_POST_POLICY_DEPTH = 3;

const invalid = (msg: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${msg}`);

export function parsePostPolicy(b64: string, now: number): Condition[] {
  let doc: { expiration?: unknown; conditions?: unknown[] };
  try {
    doc = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as typeof doc;
  } catch {
    throw invalid('Invalid JSON.');
  }
  // Checked before anything walks the document: String() of an array nested thousands deep overflows the stack.
  const bounded = typeof doc === 'object' && doc !== null && jsonDepthWithin(doc, MAX_POST_POLICY_DEPTH);
  if (!bounded) throw invalid('Invalid JSON.');
  if (typeof doc.expiration !== 'string') throw invalid('Policy missing expiration.');
  const exp = Date.parse(doc.expiration);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(doc.expiration) || Number.isNaN(exp)) {
    throw invalid(`Invalid 'expiration' value: '${doc.expiration}'`);
  }
  if (exp < now) throw policyError('Policy expired.');
  if (!Array.isArray(doc.conditions)) throw invalid('Policy missing conditions.');
  return doc.conditions.map((c): Condition => {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      const opName = String(op).toLowerCase();
      if (opName === 'content-length-range') {
        if (
          c.length !== 3 ||
          !Number.isInteger(Number(a)) ||
          !Number.isInteger(Number(b)) ||
          Number(a) < 0 ||
          Number(b) < Number(a)
        ) {
          throw invalid('Invalid content-length-range.');
        }
        return { op: 'range', min: Number(a), max: Number(b) };
      }
      const scalar = b === undefined || typeof b === 'string' || typeof b === 'number' || typeof b === 'boolean';
      if ((opName === 'eq' || opName === 'starts-with') && typeof a === 'string' && a.startsWith('$') && scalar) {
        return { op: opName, field: a.slice(1).toLowerCase(), value: String(b ?? '') };
      }
      throw invalid(`Invalid condition ${typeof op === 'string' ? `["${op}", ...]` : ''}.`);
    }
    if (c && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1 || typeof entries[0][1] === 'object') throw invalid('Invalid Simple-Condition.');
      return { op: 'eq', field: entries[0][0].toLowerCase(), value: String(entries[0][1]) };
    }
    throw invalid('Invalid condition.');
  });
}

export function checkPostPolicy(
  conditions: Condition[],
  fields: Map<string, string>,
): { min: number; max: number } | undefined {
  let range: { min: number; max: number } | undefined;
  const covered = new Set<string>();
  for (const c of conditions) {
    if (c.op === 'range') {
      range = { min: c.min, max: c.max };
      continue;
    }
    covered.add(c.field);
    const v = fields.get(c.field) ?? '';
    // content-type may be a comma-separated list for starts-with, as S3 allows.
    const ok =
      c.op === 'eq'
        ? v === c.value
        : c.field === 'content-type'
          ? v.split(',').every((p) => p.trim().startsWith(c.value))
          : v.startsWith(c.value);
    if (!ok) throw policyError(`Policy Condition failed: ["${c.op}", "$${c.field}", "${c.value}"]`);
  }
  const extra = [...fields.keys()].filter(
    (f) => !EXEMPT.has(f) && !f.startsWith('x-ignore-') && !f.startsWith('x-amz-checksum-') && !covered.has(f),
  );
  if (extra.length) throw policyError(`Extra input fields: ${extra.join(', ')}`);
  return range;
}

/** The form's signer and how it signed (s3:authType POST), or undefined for an anonymous form. */
export function postAuth(
  auth: Pick<SigV4Context, 'credentials' | 'region'>,
  fields: Map<string, string>,
): { identity: Identity; signature: SignatureFacts } | undefined {
  const policy = fields.get('policy');
  const v4sig = fields.get('x-amz-signature');
  const v2sig = fields.get('signature');
  if (policy === undefined) {
    if (v4sig !== undefined || v2sig !== undefined)
      throw new S3Error('InvalidArgument', 'Bucket POST must contain a field named policy.', {
        ArgumentName: 'policy',
      });
    return undefined;
  }
  if (v4sig !== undefined) {
    if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256')
      throw new S3Error(
        'InvalidArgument',
        'Bucket POST must contain a field named x-amz-algorithm with value AWS4-HMAC-SHA256.',
        { ArgumentName: 'x-amz-algorithm' },
      );
    const cred = (fields.get('x-amz-credential') ?? '').split('/');
    if (cred.length < 5)
      throw new S3Error('InvalidArgument', 'Bucket POST must contain a valid x-amz-credential.', {
        ArgumentName: 'x-amz-credential',
      });
    const [date, region, service] = cred.slice(-4, -1);
    checkRegion(region, auth.region, true);
    const ak = cred.slice(0, -4).join('/');
    const signedAt = parseAmzDate(fields.get('x-amz-date') ?? '');
    if (Number.isNaN(signedAt))
      throw new S3Error('InvalidArgument', 'Bucket POST must contain a valid x-amz-date.', {
        ArgumentName: 'x-amz-date',
      });
    const id = resolveSigner(auth.credentials, ak, fields.get('x-amz-security-token'));
    const key = deriveSigningKey(id.secretKey, date, region, service);
    if (!sameSignature(hmac(key, policy).toString('hex'), v4sig)) throw new S3Error('SignatureDoesNotMatch');
    return { identity: id, signature: { version: 'AWS4-HMAC-SHA256', type: 'POST', signedAt } };
  }
  if (v2sig !== undefined) {
    const ak = fields.get('awsaccesskeyid') ?? '';
    const id = resolveSigner(auth.credentials, ak, fields.get('x-amz-security-token'));
    if (!sameSignature(createHmac('sha1', id.secretKey).update(policy).digest('base64'), v2sig))
      throw new S3Error('SignatureDoesNotMatch');
    return { identity: id, signature: { version: 'AWS', type: 'POST' } };
  }
  throw new S3Error('InvalidArgument', 'Bucket POST must contain a field named x-amz-signature or signature.', {
    ArgumentName: 'x-amz-signature',
  });
}

/** Enforces content-length-range while the file streams; fails the write (nothing stored) when outside. */
export class LengthRange extends Transform {
  private n = 0;
  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.n += chunk.length;
    if (this.n > this.max)
      return cb(
        new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
          MaxSizeAllowed: String(this.max),
        }),
      );
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.n < this.min)
      return cb(
        new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
          MinSizeAllowed: String(this.min),
        }),
      );
    cb();
  }
}

export async function postObject(
  ctx: HttpContext,
  raw: IncomingMessage,
  bucket: string,
  requestId: string,
  log: ApiLogger,
  endpoint: Endpoint,
): Promise<S3Response> {
  const form = await readForm(raw, boundaryOf(raw.headers['content-type']));
  try {
    return await answerForm(ctx, raw, bucket, form, requestId, log, endpoint);
  } catch (e) {
    // Nobody reads the file part now (a refused policy, a refused write): stop it. Its read still in flight
    // ends with an error once the rest of the request is thrown away, and that error is of no interest.
    form.file.on('error', () => {});
    form.file.destroy();
    throw e;
  }
}

/** The object key: the form's key field with the file part's name put in for ${filename}. */
export function formKey(fields: Map<string, string>, fileName: string): string {
  const keyField = fields.get('key');
  if (keyField === undefined)
    throw new S3Error('InvalidArgument', 'Bucket POST must contain a field named key.', { ArgumentName: 'key' });
  const key = keyField.replace(/\$\{filename\}/g, fileName);
  if (key === '')
    throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key' });
  return key;
}

/**
 * Checks the form against its policy (a form without one is anonymous: nothing to check) and gives the policy's
 * content-length-range. The bucket is implied by the URL; S3 checks it against the policy as if it were a field.
 * The key may satisfy the policy as sent (with ${filename}) or with the file name put in.
 */
export function formPolicyRange(
  fields: Map<string, string>,
  bucket: string,
  key: string,
  now: number,
): { min: number; max: number } | undefined {
  const policy = fields.get('policy');
  if (policy === undefined) return undefined;
  const conds = parsePostPolicy(policy, now);
  const asSent = new Map([...fields, ['bucket', bucket]]);
  try {
    return checkPostPolicy(conds, asSent);
  } catch {
    return checkPostPolicy(conds, new Map([...asSent, ['key', key]]));
  }
}

/**
 * Form fields play the role of request headers for the object's metadata, checksums and what else they ask
 * (encryption, object lock, website redirect: refused by the API as for a PUT, never ignored).
 */
export function formHeaders(fields: Map<string, string>, fileContentType: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of fields) {
    // Stored headers keep the bytes that came (the form's UTF-8), as for a PUT's headers.
    if (k.startsWith('x-amz-meta-') || CONTENT_FIELDS.has(k)) headers[k] = asHeaderBytes(v);
    else if (k.startsWith('x-amz-') && !AUTH_FIELDS.has(k)) headers[k] = v;
  }
  if (!headers['content-type'] && fileContentType) headers['content-type'] = asHeaderBytes(fileContentType);
  // The form's canned ACL is the x-amz-acl of a PUT.
  const acl = fields.get('acl');
  if (acl !== undefined) headers['x-amz-acl'] = acl;
  // The form's tagging field is a Tagging XML document (a PUT sends the same tags url-encoded).
  const tagging = fields.get('tagging');
  if (tagging !== undefined) headers['x-amz-tagging'] = tagsToQuery(parseTaggingXml(tagging, 'object'));
  return headers;
}

/**
 * The answer to a form whose PutObject succeeded: a 303 to success_action_redirect (with bucket, key and ETag
 * added), else success_action_status's 201 (a PostResponse document), 200 or 204 (the default), each with the
 * object's absolute URL as its location (minio-go and browsers follow it).
 */
export function formAnswer(
  fields: Map<string, string>,
  put: S3Response,
  where: { endpoint: Endpoint; bucket: string; key: string },
): S3Response {
  const { bucket, key } = where;
  const etag = String(put.headers.etag ?? '');
  const location = objectUrl(where.endpoint, bucket, key);
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect) {
    try {
      const u = new URL(redirect);
      u.searchParams.set('bucket', bucket);
      u.searchParams.set('key', key);
      u.searchParams.set('etag', etag);
      return { status: 303, headers: { ...put.headers, location: u.toString() } };
    } catch {
      // An invalid redirect URL falls back to the status answer, as S3 does.
    }
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    return {
      status: 201,
      headers: { ...put.headers, location, 'content-type': 'application/xml' },
      body: toXml('PostResponse', { Location: location, Bucket: bucket, Key: key, ETag: etag }, null),
    };
  }
  return { status: status === '200' ? 200 : 204, headers: { ...put.headers, location } };
}

async function answerForm(
  ctx: HttpContext,
  raw: IncomingMessage,
  bucket: string,
  form: FormUpload,
  requestId: string,
  log: ApiLogger,
  endpoint: Endpoint,
): Promise<S3Response> {
  const fields = form.fields;
  const key = formKey(fields, form.fileName);
  const signer = postAuth(ctx.auth, fields);
  const range = formPolicyRange(fields, bucket, key, ctx.api.now());
  const op = { name: 'PutObject' as const, action: 's3:PutObject', bucket, key, form: true };
  // The API authorizes the PutObject this form amounts to (with the form's fields as its headers).
  const openBody = () => {
    const body = through(form.file, new LengthRange(range?.min ?? 0, range?.max ?? 5 * 1024 ** 3));
    return { body, size: -1, trailers: new Map<string, string>() };
  };
  const put = await handle(ctx.api, {
    op,
    requestId,
    method: 'PUT',
    headers: formHeaders(fields, form.fileContentType),
    query: new URLSearchParams(),
    openBody,
    log,
    sourceIp: raw.socket.remoteAddress ?? '',
    secure: (raw.socket as TLSSocket).encrypted === true,
    auth: { signature: signer?.signature, tlsVersion: tlsVersionOf(raw.socket) },
    caller: signer?.identity.caller,
  });
  return formAnswer(fields, put, { endpoint, bucket, key });
}
