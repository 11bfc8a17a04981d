// IAM's OpenID Connect provider objects (CreateOpenIDConnectProvider and its family in the IAM query API):
// an issuer URL with the client ids (audiences) and certificate thumbprints an account registers, named by
// `arn:aws:iam::<account>:oidc-provider/<host/path>`. They are kept like every IAM record (persist.ts, keyed
// by a hash: the URL holds characters object names should not). Registering one grants nothing by itself: a
// role's trust policy names it as its Federated principal, and AssumeRoleWithWebIdentity with that role's ARN
// (web-identity-role.ts) verifies tokens whose `iss` is the provider's URL against its keys and client ids.
import { createHash } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { WEB_IDENTITY_KEY_NAMES } from '../policy-keys.js';
import { changedTags } from './iam-tags.js';
import { ACCOUNT_ID } from './principal.js';
import type { IamStore } from './store.js';

export interface OidcProviderRecord {
  /** The URL without its scheme and trailing slash, as the ARN names it and IAM answers it (`server.example.com`). */
  url: string;
  /** The scheme it was registered with: https, or http (accepted as Ceph RGW does, for test providers). */
  scheme: 'https' | 'http';
  clientIds: string[];
  thumbprints: string[];
  created: number;
  tags: Record<string, string>;
}

export const oidcProviderArn = (url: string): string => `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${url}`;
/** The record's key: a hash of the URL. */
export const oidcProviderId = (url: string): string => createHash('sha256').update(url).digest('hex');

const invalid = (message: string) => new S3Error('InvalidInput', message);
const MAX_CLIENT_IDS = 100;
const MAX_THUMBPRINTS = 5;

/** An issuer URL as IAM keeps it: `https://host/path/` -> `host/path`. */
export function normalizeIssuerUrl(url: string): { url: string; scheme: 'https' | 'http' } {
  const m = url.length > 255 ? null : /^(https?):\/\/([^/?#\s]+)((?:\/[^?#\s]*)?)$/i.exec(url);
  if (!m) {
    throw invalid('Url must be an https:// URL (http:// is accepted) of at most 255 characters, without query');
  }
  return { scheme: m[1].toLowerCase() as 'https' | 'http', url: m[2] + m[3].replace(/\/+$/, '') };
}

function checkClientId(id: string): string {
  if (id.length < 1 || id.length > 255) throw invalid('A client ID must be 1 to 255 characters');
  return id;
}

function checkThumbprints(list: string[]): string[] {
  if (list.length > MAX_THUMBPRINTS) throw invalid(`ThumbprintList holds at most ${MAX_THUMBPRINTS} thumbprints`);
  for (const t of list) if (!/^[0-9A-Za-z]{40}$/.test(t)) throw invalid('A thumbprint is 40 hexadecimal characters');
  return list;
}

/** The provider an ARN names; NoSuchEntity when there is none. */
export function getOidcProvider(store: IamStore, arn: string): OidcProviderRecord {
  const m = /^arn:aws:iam::[^:]*:oidc-provider\/(.+)$/.exec(arn);
  if (!m) throw invalid('OpenIDConnectProviderArn is not the ARN of an OpenID Connect provider');
  const p = store.oidcProviders.get(oidcProviderId(m[1]));
  if (!p) throw new S3Error('NoSuchEntity', `OpenIDConnect provider not found for arn ${arn.slice(0, 300)}`);
  return p;
}

export function createOidcProvider(
  store: IamStore,
  a: { url: string; clientIds: string[]; thumbprints: string[]; tags: Record<string, string> },
): Promise<OidcProviderRecord> {
  const { url, scheme } = normalizeIssuerUrl(a.url);
  const clientIds = [...new Set(a.clientIds.map(checkClientId))];
  if (clientIds.length > MAX_CLIENT_IDS) throw invalid(`ClientIDList holds at most ${MAX_CLIENT_IDS} client IDs`);
  const thumbprints = checkThumbprints(a.thumbprints);
  if (Object.keys(a.tags).length > 50) throw new S3Error('LimitExceeded', 'Cannot exceed quota for tags: 50');
  return store.exclusive(async () => {
    const id = oidcProviderId(url);
    if (store.oidcProviders.has(id)) {
      throw new S3Error('EntityAlreadyExists', `Provider with url ${scheme}://${url} already exists.`);
    }
    const p: OidcProviderRecord = { url, scheme, clientIds, thumbprints, created: store.now(), tags: a.tags };
    await store.put('oidc-provider', id, p);
    return p;
  });
}

/** Changes a provider's client ids or thumbprints (one change at a time, read again inside). */
export function updateOidcProvider(
  store: IamStore,
  arn: string,
  change: { addClientId?: string; removeClientId?: string; thumbprints?: string[] },
): Promise<void> {
  if (change.addClientId !== undefined) checkClientId(change.addClientId);
  if (change.thumbprints !== undefined) checkThumbprints(change.thumbprints);
  return store.exclusive(async () => {
    const p = getOidcProvider(store, arn);
    let clientIds = p.clientIds;
    // Adding a client id it has, or removing one it lacks, changes nothing (as IAM answers).
    if (change.addClientId !== undefined && !clientIds.includes(change.addClientId)) {
      if (clientIds.length >= MAX_CLIENT_IDS) throw invalid(`ClientIDList holds at most ${MAX_CLIENT_IDS} client IDs`);
      clientIds = [...clientIds, change.addClientId];
    }
    if (change.removeClientId !== undefined) clientIds = clientIds.filter((c) => c !== change.removeClientId);
    await store.put('oidc-provider', oidcProviderId(p.url), {
      ...p,
      clientIds,
      thumbprints: change.thumbprints ?? p.thumbprints,
    });
  });
}

/** TagOpenIDConnectProvider / UntagOpenIDConnectProvider: the tags after the change (keys without case, at most 50). */
export function tagOidcProvider(
  store: IamStore,
  arn: string,
  set: Record<string, string>,
  remove: string[],
): Promise<void> {
  return store.exclusive(async () => {
    const p = getOidcProvider(store, arn);
    await store.put('oidc-provider', oidcProviderId(p.url), { ...p, tags: changedTags(p.tags, set, remove) });
  });
}

export function deleteOidcProvider(store: IamStore, arn: string): Promise<void> {
  return store.exclusive(async () => {
    const p = getOidcProvider(store, arn);
    await store.drop('oidc-provider', oidcProviderId(p.url));
  });
}

/**
 * The condition keys of a login through a registered provider (names lower-cased), for the role's trust policy
 * and the session's policies: AWS's `<url>:aud` (the token's aud, else its azp), `<url>:sub`, `<url>:amr`,
 * `<url>:azp`, Ceph RGW's `<url>:app_id` (the audience again), aws:FederatedProvider (the provider's ARN),
 * and MinIO's jwt:<claim> for each simple claim.
 */
export function webIdentityKeys(
  url: string,
  claims: Readonly<Record<string, string | string[]>>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(claims)) out[`jwt:${k.toLowerCase()}`] = v;
  const aud = claims.aud ?? claims.azp;
  const values: Record<string, string | string[] | undefined> = {
    aud,
    sub: claims.sub,
    amr: claims.amr,
    azp: claims.azp,
    app_id: aud,
  };
  const prefix = url.toLowerCase();
  for (const name of WEB_IDENTITY_KEY_NAMES) {
    const v = values[name];
    if (v !== undefined) out[`${prefix}:${name}`] = v;
  }
  out['aws:federatedprovider'] = oidcProviderArn(url);
  return out;
}
