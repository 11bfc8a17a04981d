// The condition keys a bucket policy may name, and what Cairn knows of each (names lower-cased: keys compare
// case-insensitively). S3 refuses a key it does not know with "Policy has an invalid condition key", except
// keys starting with `aws:`: any of those is accepted, and one a request does not carry is simply absent
// (a VPC endpoint id, an organization id: never present in a request to Cairn, as in a request to AWS from
// outside a VPC or an organization). Keys that AWS documents and would fill in, but Cairn cannot (account
// ids, bucket tags, S3 Control jobs...), are refused as NotImplemented: accepted, they would make a Deny that
// names them silently never apply.
import { S3Error } from '../errors.js';

/** Request headers a condition may name as `s3:<header>`; absent when the request does not send them. */
export const CONDITION_HEADERS = [
  'x-amz-acl',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
  'x-amz-storage-class',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-website-redirect-location',
  'x-amz-content-sha256',
  'x-amz-grant-full-control',
  'x-amz-grant-read',
  'x-amz-grant-write',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'if-match',
  'if-none-match',
];

/** Keys the condition context holds besides the headers (authorize.ts fills in each of them). */
export const REQUEST_KEYS = [
  'aws:sourceip',
  'aws:securetransport',
  'aws:referer',
  'aws:useragent',
  'aws:currenttime',
  'aws:epochtime',
  'aws:username',
  'aws:userid',
  'aws:principalarn',
  'aws:principaltype',
  'aws:requestedregion',
  'aws:principalisawsservice',
  'aws:viaawsservice',
  's3:prefix',
  's3:delimiter',
  's3:max-keys',
  's3:versionid',
  // What authentication and the connection saw (RequestAuth).
  's3:signatureversion',
  's3:authtype',
  's3:signatureage',
  's3:tlsversion',
  // The object lock asked (x-amz-object-lock-* headers, or PutObjectRetention / PutObjectLegalHold bodies).
  's3:object-lock-mode',
  's3:object-lock-retain-until-date',
  's3:object-lock-remaining-retention-days',
  's3:object-lock-legal-hold',
];

/** Per-tag keys: the tag's key follows the slash (the request's x-amz-tagging, the object's stored tags). */
export const TAG_KEY_PREFIXES = ['s3:requestobjecttag/', 's3:existingobjecttag/'];

/** Keys of an AssumeRole request (trust policies), set by the STS handler (session-tags.ts: the last two). */
export const STS_KEYS = ['sts:externalid', 'sts:rolesessionname', 'sts:transitivetagkeys', 'sts:sourceidentity'];

/** Keys of IAM API requests, set by its handlers (iam-api.ts): the managed policy an Attach/Detach names. */
export const IAM_KEYS = ['iam:policyarn'];

/** The tags of the IAM user or role an IAM action is on (iam-tags.ts; aws:ResourceTag/<key> under IAM's name). */
const IAM_TAG_KEY_PREFIXES = ['iam:resourcetag/'];

const SUPPLIED = new Set([...REQUEST_KEYS, ...STS_KEYS, ...IAM_KEYS, ...CONDITION_HEADERS.map((h) => `s3:${h}`)]);

/** S3 condition keys AWS documents ("Actions, resources, and condition keys for Amazon S3") Cairn has no value for. */
const S3_NOT_IMPLEMENTED = new Set([
  's3:accessgrantsinstancearn',
  's3:accesspointnetworkorigin',
  's3:dataaccesspointaccount',
  's3:dataaccesspointarn',
  's3:existingjoboperation',
  's3:existingjobpriority',
  's3:inventoryaccessibleoptionalfields',
  's3:jobsuspendedcause',
  's3:locationconstraint',
  's3:objectcreationoperation',
  's3:requestjoboperation',
  's3:requestjobpriority',
  's3:requestobjecttagkeys',
  's3:resourceaccount',
]);
const S3_NOT_IMPLEMENTED_PREFIXES = ['s3:buckettag/'];

/** Global keys AWS sets on every authenticated request; Cairn has no accounts to give them a value. */
const GLOBAL_NOT_IMPLEMENTED = new Set(['aws:principalaccount', 'aws:resourceaccount']);

/**
 * Claims of federated sessions (OpenID Connect `jwt:`, LDAP `ldap:`, as MinIO names them): present in the
 * sessions those providers issue, absent from any other request.
 */
const FEDERATED_PREFIXES = ['jwt:', 'ldap:'];

/** Claims a web identity login through an IAM OIDC provider names `<url>:<claim>` (oidc-providers.ts). */
export const WEB_IDENTITY_KEY_NAMES = ['aud', 'sub', 'amr', 'azp', 'app_id'];
const SERVICE_PREFIXES = new Set(['aws', 's3', 'sts', 'iam', 'jwt', 'ldap', 'admin']);

/** `localhost:8080/realms/x:sub`, `accounts.example.com:aud`: a provider's URL (host, port, path), a claim. */
function isWebIdentityKey(key: string): boolean {
  const colon = key.lastIndexOf(':');
  if (colon <= 0 || !WEB_IDENTITY_KEY_NAMES.includes(key.slice(colon + 1))) return false;
  const url = key.slice(0, colon);
  return !SERVICE_PREFIXES.has(url) && /^[a-z0-9.-]+(?::\d{1,5})?(?:\/\S*)?$/.test(url);
}

const withTagKey = (key: string, prefixes: string[]) =>
  prefixes.some((p) => key.startsWith(p) && key.length > p.length);

/**
 * Refuses a condition key as S3 does (MalformedPolicy) or as one Cairn cannot evaluate (NotImplemented).
 * `key` is lower-cased.
 */
export function checkConditionKey(key: string, original: string): void {
  if (SUPPLIED.has(key) || withTagKey(key, TAG_KEY_PREFIXES) || withTagKey(key, FEDERATED_PREFIXES)) return;
  if (withTagKey(key, IAM_TAG_KEY_PREFIXES)) return;
  if (isWebIdentityKey(key)) return;
  if (GLOBAL_NOT_IMPLEMENTED.has(key) || S3_NOT_IMPLEMENTED.has(key) || withTagKey(key, S3_NOT_IMPLEMENTED_PREFIXES)) {
    throw new S3Error('NotImplemented', `The condition key ${original} is not implemented.`);
  }
  if (key.startsWith('aws:') && key.length > 4) return;
  throw new S3Error('MalformedPolicy', 'Policy has an invalid condition key');
}
