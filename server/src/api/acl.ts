// Access control lists, as S3 keeps them on buckets whose ACLs are enabled: a canned ACL (x-amz-acl) or an
// AccessControlPolicy document becomes a list of grants, stored with the bucket (BucketConfig.acl) or with
// the object (a reserved user-metadata entry no client header can name, since ':' is not a header token
// character). authorize.ts asks `aclAllows` when no bucket policy decided; Get*Acl renders the grants.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import { canonicalId } from './canonical-id.js';

export { canonicalId };
import { bucketSettings, type BucketSettings } from './bucket-settings.js';
import type { Accounts, ApiContext, S3Request } from './types.js';
import { toXml, many, parseXml, str } from './xml.js';

export type Permission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';
const PERMISSIONS: readonly Permission[] = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'];

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** A grantee is a configured user (its access key; shown by canonical id) or a group (uri). */
export interface Grant {
  key?: string;
  uri?: string;
  permission: Permission;
}

/** The stored form: who owns the resource (access key) and its grants (the owner's own included). */
export interface Acl {
  owner: string;
  grants: Grant[];
}

/** User-metadata entry holding an object's ACL (JSON of Acl); hidden from x-amz-meta-* responses. */
export const OBJECT_ACL_META = 'cairn:acl';

const CANNED = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'aws-exec-read',
]);

/** Canonical ids and display names from the configured users (defaults: sha256 of the key, the key). */
export function accountsOf(cfg: { root: UserAccount; users?: UserAccount[] }): Accounts {
  const all = [cfg.root, ...(cfg.users ?? [])];
  const byKey = new Map(all.map((u) => [u.accessKey, u]));
  const byId = new Map(all.map((u) => [u.canonicalId ?? canonicalId(u.accessKey), u.accessKey]));
  return {
    rootKey: cfg.root.accessKey,
    idOf: (k) => byKey.get(k)?.canonicalId ?? canonicalId(k),
    nameOf: (k) => byKey.get(k)?.displayName ?? k,
    keyOf: (id) => byId.get(id),
  };
}

interface UserAccount {
  accessKey: string;
  canonicalId?: string;
  displayName?: string;
}

/** The context's accounts, or the defaults for the root alone (contexts built without credentials). */
export function accounts(ctx: ApiContext): Accounts {
  return ctx.accounts ?? accountsOf({ root: { accessKey: ctx.owner.displayName, canonicalId: ctx.owner.id } });
}

function userGrant(accessKey: string, permission: Permission): Grant {
  return { key: accessKey, permission };
}

/** Grants of a canned ACL for a resource owned by `owner` in a bucket owned by `bucketOwner`. */
export function cannedAcl(canned: string, owner: string, bucketOwner: string): Acl {
  if (!CANNED.has(canned))
    throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: canned });
  const grants: Grant[] = [];
  if (canned === 'public-read' || canned === 'public-read-write') grants.push({ uri: ALL_USERS, permission: 'READ' });
  if (canned === 'public-read-write') grants.push({ uri: ALL_USERS, permission: 'WRITE' });
  if (canned === 'authenticated-read') grants.push({ uri: AUTHENTICATED_USERS, permission: 'READ' });
  grants.push(userGrant(owner, 'FULL_CONTROL'));
  if (bucketOwner !== owner && canned === 'bucket-owner-read') grants.push(userGrant(bucketOwner, 'READ'));
  if (bucketOwner !== owner && canned === 'bucket-owner-full-control')
    grants.push(userGrant(bucketOwner, 'FULL_CONTROL'));
  return { owner, grants };
}

const GRANT_HEADERS: [string, Permission][] = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
];

/**
 * One grantee of an x-amz-grant-* header, `id="..."` or `uri="..."` (quotes optional), read without a RegExp:
 * the one this replaces took cubic time on a value of spaces (seconds for 2,000, minutes for 8,000).
 */
function grantee(part: string): { type: string; value: string } | undefined {
  const eq = part.indexOf('=');
  if (eq < 0) return undefined;
  let value = part.slice(eq + 1).trim();
  if (value.startsWith('"')) value = value.slice(1);
  if (value.endsWith('"')) value = value.slice(0, -1);
  return value.includes('"') ? undefined : { type: part.slice(0, eq).trim().toLowerCase(), value };
}

/** x-amz-grant-*: comma-separated `id="..."` / `uri="..."` grantees (emails are not supported). */
function headerGrants(h: IncomingHttpHeaders, owner: string, acc: Accounts): Acl | undefined {
  const grants: Grant[] = [];
  for (const [name, permission] of GRANT_HEADERS) {
    const v = h[name];
    if (typeof v !== 'string') continue;
    for (const part of v.split(',')) {
      const g = grantee(part);
      const argument = { ArgumentName: name, ArgumentValue: v };
      // No account here has an email address: as S3 answers for an address it cannot find.
      if (g?.type === 'emailaddress') {
        throw new S3Error('UnresolvableGrantByEmailAddress', undefined, { EmailAddress: g.value });
      }
      if (g?.type !== 'id' && g?.type !== 'uri') {
        throw new S3Error('InvalidArgument', `Unsupported grantee in ${name}`, argument);
      }
      if (g.type === 'id') grants.push({ key: knownId(acc, g.value), permission });
      else grants.push({ uri: knownUri(g.value), permission });
    }
  }
  return grants.length > 0 ? { owner, grants } : undefined;
}

/**
 * The ACL a write asks for: x-amz-acl, x-amz-grant-* headers, or undefined (the caller keeps its default).
 * Both at once is an error, as S3 answers it.
 */
export function requestedAcl(
  h: IncomingHttpHeaders,
  owner: string,
  bucketOwner: string,
  acc: Accounts,
): Acl | undefined {
  const canned = typeof h['x-amz-acl'] === 'string' ? h['x-amz-acl'] : undefined;
  const granted = headerGrants(h, owner, acc);
  if (canned !== undefined && granted)
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  return canned !== undefined ? cannedAcl(canned, owner, bucketOwner) : granted;
}

/** An AccessControlPolicy document (PutBucketAcl / PutObjectAcl body). The owner stays as it is. */
function knownId(acc: Accounts, id: string): string {
  const key = acc.keyOf(id);
  if (key === undefined)
    throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: id });
  return key;
}

function knownUri(uri: string): string {
  if (uri !== ALL_USERS && uri !== AUTHENTICATED_USERS)
    throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: uri });
  return uri;
}

export function parseAclDocument(xml: string, owner: string, acc: Accounts): Acl {
  const doc = parseXml(xml, 'AccessControlPolicy');
  const list = doc.AccessControlList as Record<string, unknown> | string | undefined;
  if (list === undefined) throw new S3Error('MalformedACLError');
  // An empty list revokes every grant (the owner keeps its access as owner).
  if (typeof list !== 'object') {
    if (list.trim() !== '') throw new S3Error('MalformedACLError');
    return { owner, grants: [] };
  }
  const grants: Grant[] = [];
  for (const g of many(list.Grant)) {
    const grant = g as Record<string, unknown>;
    const grantee = (grant.Grantee ?? {}) as Record<string, unknown>;
    const permission = str(grant.Permission) as Permission;
    if (!PERMISSIONS.includes(permission)) throw new S3Error('MalformedACLError');
    const id = str(grantee.ID);
    const uri = str(grantee.URI);
    if (str(grantee.EmailAddress) !== undefined) throw new S3Error('UnresolvableGrantByEmailAddress');
    if (id === undefined && uri === undefined) throw new S3Error('MalformedACLError');
    grants.push(id !== undefined ? { key: knownId(acc, id), permission } : { uri: knownUri(uri!), permission });
  }
  return { owner, grants };
}

/**
 * Does this ACL give `accessKey` the permission? FULL_CONTROL implies all. `accessKey` is the account a grant
 * can name (undefined: anonymous, or an IAM user, which no grant names); `signed` says the request was
 * authenticated, which is all AuthenticatedUsers asks ("any AWS authenticated user in the world", IAM users
 * included).
 */
export function aclAllows(
  acl: Acl | undefined,
  accessKey: string | undefined,
  permission: Permission,
  ignorePublic = false,
  signed = accessKey !== undefined,
): boolean {
  if (!acl) return false;
  return acl.grants.some((g) => {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
    if (g.uri !== undefined && ignorePublic) return false;
    if (g.uri === ALL_USERS) return true;
    if (g.uri === AUTHENTICATED_USERS) return signed;
    return accessKey !== undefined && g.key === accessKey;
  });
}

/** Does an ACL grant anything to AllUsers or AuthenticatedUsers? */
export function hasPublicGrant(acl: Acl | undefined): boolean {
  return acl?.grants.some((g) => g.uri === ALL_USERS || g.uri === AUTHENTICATED_USERS) ?? false;
}

/** The stored ACL of an object (from its metadata), or its default: the owner alone. */
export function objectAcl(userMetadata: Record<string, string>): Acl | undefined {
  const raw = userMetadata[OBJECT_ACL_META];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Acl;
  } catch {
    return undefined;
  }
}

/** User metadata with the ACL entry set (or, for acl undefined, removed). */
export function withObjectAcl(meta: Record<string, string>, acl: Acl | undefined): Record<string, string> {
  const { [OBJECT_ACL_META]: _old, ...rest } = meta;
  return acl ? { ...rest, [OBJECT_ACL_META]: JSON.stringify(acl) } : rest;
}

export function aclXml(acl: Acl, acc: Accounts): string {
  const grantee = (g: Grant) =>
    g.uri !== undefined ? { URI: g.uri } : { ID: acc.idOf(g.key ?? ''), DisplayName: acc.nameOf(g.key ?? '') };
  return toXml('AccessControlPolicy', {
    Owner: { ID: acc.idOf(acl.owner), DisplayName: acc.nameOf(acl.owner) },
    // Group grants first, then users (as RGW lists them); the order within each kind is kept.
    AccessControlList: {
      Grant: [...acl.grants.filter((g) => g.uri !== undefined), ...acl.grants.filter((g) => g.uri === undefined)].map(
        (g) => ({ Grantee: grantee(g), Permission: g.permission }),
      ),
    },
  }).replace(
    /<Grantee>(\s*<(ID|URI)>)/g,
    (_m, rest: string, tag: string) =>
      `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="${tag === 'URI' ? 'Group' : 'CanonicalUser'}">${rest}`,
  );
}

/** Refuses ACL changes the bucket's settings forbid: ACLs disabled (BucketOwnerEnforced), public ACLs blocked. */
export function checkAclAllowed(s: BucketSettings, acl: Acl): void {
  if (s.ownership === 'BucketOwnerEnforced') throw new S3Error('AccessControlListNotSupported');
  const grantsToGroups = acl.grants.some((g) => g.uri !== undefined);
  if (s.publicAccessBlock.BlockPublicAcls && grantsToGroups) throw new S3Error('AccessDenied');
}

/**
 * The ACL a new object gets: the one the request asks for, else private to its writer. Objects the bucket
 * owner writes without asking store nothing (the default is the bucket owner alone). With ACLs disabled
 * (BucketOwnerEnforced) only bucket-owner-full-control is accepted and the bucket owner owns everything;
 * with BucketOwnerPreferred an object written with bucket-owner-full-control belongs to the bucket owner.
 */
export async function newObjectAcl(ctx: ApiContext, req: S3Request, bucket: string): Promise<Acl | undefined> {
  const s = await bucketSettings(ctx, bucket);
  const acc = accounts(ctx);
  const bucketOwner = s.owner ?? acc.rootKey;
  const writer = req.caller?.account ?? bucketOwner;
  const ownership = s.ownership;
  const canned = typeof req.headers['x-amz-acl'] === 'string' ? req.headers['x-amz-acl'] : undefined;
  if (ownership === 'BucketOwnerEnforced') {
    if (
      (canned !== undefined && canned !== 'bucket-owner-full-control') ||
      GRANT_HEADERS.some(([h]) => req.headers[h] !== undefined)
    ) {
      throw new S3Error('AccessControlListNotSupported');
    }
    return undefined;
  }
  const owner = ownership === 'BucketOwnerPreferred' && canned === 'bucket-owner-full-control' ? bucketOwner : writer;
  const acl = requestedAcl(req.headers, owner, bucketOwner, acc);
  if (acl) checkAclAllowed(s, acl);
  return acl ?? (owner !== bucketOwner ? cannedAcl('private', owner, bucketOwner) : undefined);
}

/** Grants beyond the owner's own (what BucketOwnerEnforced would drop). */
export function hasForeignGrants(acl: Acl | undefined): boolean {
  return acl?.grants.some((g) => g.key !== acl.owner) ?? false;
}
