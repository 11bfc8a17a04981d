// The request as policy conditions and policy variables see it: the condition context (ConditionContext,
// keys lower-cased). Every key policy-keys.ts lists as supplied (REQUEST_KEYS, CONDITION_HEADERS,
// TAG_KEY_PREFIXES) is answered here.
//
// A request is authorized against hundreds of statements and most read one or two keys (aws:username,
// s3:prefix, aws:SourceIp), so the fixed keys are getters computed when a condition asks for them, not a
// record of dozens of values built per request. The per-tag and per-claim keys (only some callers and
// requests have any) are own properties. Writing any key (the object's tags, an IAM action's extra keys)
// makes it an own property, which a getter of the same name then no longer answers.
import type { IncomingHttpHeaders } from 'node:http';
import type { AccessRequest, Resource } from './authorize.js';
import { parseRetainUntil } from './lock-config.js';
import type { ConditionContext } from './policy-conditions.js';
import { CONDITION_HEADERS } from './policy-keys.js';
import type { ApiContext, Caller, RequestAuth } from './types.js';

/** What the getters read: the request, the resource, the region and the time the context was made. */
interface Source {
  req: AccessRequest;
  r: Resource;
  region: string;
  now: number;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
};

/** aws:PrincipalType as AWS names the kinds of callers. */
function principalType(caller: Caller | undefined): string {
  if (caller === undefined) return 'Anonymous';
  if (caller.iam.kind === 'root') return 'Account';
  return caller.iam.role !== undefined ? 'AssumedRole' : 'User';
}

/** s3:signatureAge: milliseconds since the SigV4 signing time; always 0 for SigV2, as AWS defines it. */
function signatureAge(auth: RequestAuth, now: number): string | undefined {
  const sig = auth.signature;
  if (sig === undefined) return undefined;
  return String(sig.signedAt === undefined ? 0 : Math.max(0, now - sig.signedAt));
}

const DAY_MS = 86_400_000;

/** The retain-until date a request asks for: a PutObjectRetention body's, else the header's. */
const retainUntil = (s: Source): Date | undefined =>
  s.req.lock
    ? s.req.lock.retainUntil
    : parseRetainUntil(header(s.req.headers, 'x-amz-object-lock-retain-until-date') ?? '');

/** The fixed keys and how each is computed (undefined: the request has no value for it). */
const FIXED: Record<string, (s: Source) => string | undefined> = {
  'aws:sourceip': (s) => s.req.sourceIp,
  'aws:securetransport': (s) => String(s.req.secure),
  'aws:referer': (s) => header(s.req.headers, 'referer'),
  'aws:useragent': (s) => header(s.req.headers, 'user-agent'),
  'aws:currenttime': (s) => new Date(s.now).toISOString(),
  'aws:epochtime': (s) => String(Math.floor(s.now / 1000)),
  'aws:username': (s) => s.req.caller?.iam.username,
  'aws:userid': (s) => s.req.caller?.iam.userId,
  'aws:principalarn': (s) => s.req.caller?.iam.arn,
  'aws:principaltype': (s) => principalType(s.req.caller),
  // Present only for role sessions that have one (as aws:PrincipalTag/<k> only for tagged callers).
  'aws:sourceidentity': (s) => s.req.caller?.iam.sourceIdentity,
  'aws:requestedregion': (s) => s.region,
  // No request reaches Cairn from or through an AWS service.
  'aws:principalisawsservice': () => 'false',
  'aws:viaawsservice': () => 'false',
  's3:prefix': (s) => s.req.query.get('prefix') ?? undefined,
  's3:delimiter': (s) => s.req.query.get('delimiter') ?? undefined,
  's3:max-keys': (s) => s.req.query.get('max-keys') ?? undefined,
  's3:versionid': (s) => s.r.versionId ?? s.req.query.get('versionId') ?? undefined,
  's3:signatureversion': (s) => s.req.auth.signature?.version,
  's3:authtype': (s) => s.req.auth.signature?.type,
  's3:signatureage': (s) => signatureAge(s.req.auth, s.now),
  's3:tlsversion': (s) => s.req.auth.tlsVersion,
  // The object lock asked: a PutObjectRetention / PutObjectLegalHold body's (req.lock), else the headers'.
  's3:object-lock-mode': (s) => (s.req.lock ? s.req.lock.mode : header(s.req.headers, 'x-amz-object-lock-mode')),
  's3:object-lock-retain-until-date': (s) => retainUntil(s)?.toISOString(),
  // Whole days, a part of a day counting as one (as MinIO counts them); absent for a date already passed.
  's3:object-lock-remaining-retention-days': (s) => {
    const until = retainUntil(s);
    const left = until === undefined ? 0 : until.getTime() - s.now;
    return left > 0 ? String(Math.ceil(left / DAY_MS)) : undefined;
  },
  's3:object-lock-legal-hold': (s) =>
    s.req.lock ? s.req.lock.legalHold : header(s.req.headers, 'x-amz-object-lock-legal-hold'),
};
for (const name of CONDITION_HEADERS) FIXED[`s3:${name}`] = (s) => header(s.req.headers, name);
// The payload hash a signature covers, whether sent as a header or (presigned) implied by the query.
FIXED['s3:x-amz-content-sha256'] = (s) =>
  s.req.auth.signature?.contentSha256 ?? header(s.req.headers, 'x-amz-content-sha256');

const SOURCE = Symbol('source');

/** Own value for a key: what a write does, on an instance, to a key a getter answered. */
function own(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

class RequestConditions {
  readonly [SOURCE]: Source;
  constructor(source: Source) {
    this[SOURCE] = source;
  }
}
for (const [key, compute] of Object.entries(FIXED)) {
  Object.defineProperty(RequestConditions.prototype, key, {
    get(this: RequestConditions) {
      return compute(this[SOURCE]);
    },
    set(this: RequestConditions, value: unknown) {
      own(this, key, value);
    },
    configurable: true,
  });
}

/**
 * The request's condition context. Add keys by assignment or Object.assign (never by spreading it: the fixed
 * keys are getters of its prototype, which a spread does not copy).
 */
export function conditionContext(ctx: ApiContext, req: AccessRequest, r: Resource): ConditionContext {
  const out = new RequestConditions({ req, r, region: ctx.region, now: ctx.now() }) as unknown as ConditionContext;
  const iam = req.caller?.iam;
  if (iam?.tags) for (const k in iam.tags) out[`aws:principaltag/${k.toLowerCase()}`] = iam.tags[k];
  if (iam?.claims) for (const k in iam.claims) out[k] = iam.claims[k];
  // Tag conditions on the request's own tags (x-amz-tagging); the object's tags are added where asked for.
  const tagging = header(req.headers, 'x-amz-tagging');
  if (tagging) for (const [k, v] of new URLSearchParams(tagging)) out[`s3:requestobjecttag/${k.toLowerCase()}`] = v;
  return out;
}
