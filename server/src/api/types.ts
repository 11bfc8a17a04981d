// What the HTTP layer hands to an API handler and what it gets back. Handlers know nothing of fastify or
// signatures: the body they get is already decoded (aws-chunked framing removed) and authenticated.
import type { SseSettings } from './sse/index.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ObjectLayer } from '../storage/object-layer.js';
import type { IamIdentity } from './iam/principal.js';
import type { IamStore } from './iam/store.js';
import type { LdapProvider } from './iam/ldap.js';
import type { OpenIdProvider } from './iam/openid.js';
import type { RegisteredProviders } from './iam/web-identity-role.js';
import type { Operation } from './operation.js';
import type { Notifier, ObjectEvent } from './notify/index.js';
import type { Tiers } from './tier/tiers.js';
import type { Replicator } from './replication/index.js';
import type { ServerAdmin } from './admin/index.js';
import type { Dialect } from './select-dialect.js';
import type { SelectCounts } from './select.js';

export interface ApiLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ApiContext {
  storage: ObjectLayer;
  /** The region this server answers for (LocationConstraint, x-amz-bucket-region). */
  region: string;
  /** Canonical id and display name of the owner shown in listings. */
  owner: { id: string; displayName: string };
  /** The configured users' canonical ids and display names (ACL owners and grantees); see acl.ts for the default. */
  accounts?: Accounts;
  /** Users, groups, policies, roles, service accounts; absent in contexts built without IAM (unit tests). */
  iam?: IamStore;
  /** The LDAP server of AssumeRoleWithLDAPIdentity (CAIRN_IDENTITY_LDAP_*), when one is configured. */
  ldap?: LdapProvider;
  /** The OpenID provider of AssumeRoleWithWebIdentity (CAIRN_IDENTITY_OPENID_*), when one is configured. */
  openid?: OpenIdProvider;
  /** Verifiers of IAM's OpenID Connect providers (web identity logins into IAM roles). */
  webIdentity?: RegisteredProviders;
  now(): number;
  /**
   * The test clock's lifecycle day in ms (CAIRN_LIFECYCLE_DAY_SECONDS): due times are not rounded to midnight.
   * Absent: days of 24 hours, rounded up to the next midnight UTC as AWS does.
   */
  lifecycleDayMs?: number;
  /** Server-side encryption settings (api/sse). */
  sse?: SseSettings;
  /**
   * S3 Select's dialect for requests that name none (`select dialect`, CAIRN_SELECT_DIALECT), read when the
   * server starts; absent: aws.
   */
  selectDialect?: Dialect;
  /** The bytes S3 Select queries scanned, processed and returned (the metrics); absent in unit tests' contexts. */
  selectCounts?: SelectCounts;
  /** Bucket event notifications (api/notify); absent in contexts built without them (unit tests). */
  notify?: Notifier;
  /** Remote tiers (api/tier): lifecycle transitions' destinations; absent in contexts built without them. */
  tiers?: Tiers;
  /** Bucket replication's queues and senders (api/replication); absent in contexts built without them. */
  replication?: Replicator;
  /** Operating the server (api/admin: info, usage, service, trace, top locks); absent in contexts without it. */
  server?: ServerAdmin;
}

export interface Accounts {
  rootKey: string;
  idOf(accessKey: string): string;
  nameOf(accessKey: string): string;
  /** The access key of a canonical id, undefined for ids no configured user has. */
  keyOf(canonicalId: string): string | undefined;
}

/** Who signed a request, as authentication found it (api/iam/principal.ts builds these). */
export interface Caller {
  /** The access key that signed the request. */
  accessKey: string;
  /** Root's rights: everything, never refused (the root user; a root credential narrowed by a policy is not). */
  root: boolean;
  /**
   * The account the caller acts for: the owner of what it creates and whom ACL grants name. The root user's
   * access key for IAM users and roles, a static user's own key for it and its credentials.
   */
  account: string;
  /** The account's implicit rights over its own buckets: root, static users and credentials derived from them. */
  ownerRights: boolean;
  /** What IAM knows of the caller: whose policies apply, what narrows them, the names policies may use. */
  iam: IamIdentity;
}

/** How a request was signed, as authentication verified it (absent: an anonymous request). */
export interface SignatureFacts {
  /** s3:signatureversion: `AWS4-HMAC-SHA256` (Signature Version 4) or `AWS` (Signature Version 2). */
  version: 'AWS4-HMAC-SHA256' | 'AWS';
  /** s3:authType: the Authorization header, a presigned URL's query, or a browser POST form. */
  type: 'REST-HEADER' | 'REST-QUERY-STRING' | 'POST';
  /** The signing time (epoch ms) SigV4 signs (X-Amz-Date); s3:signatureAge counts from it (SigV2's age is 0). */
  signedAt?: number;
  /**
   * s3:x-amz-content-sha256: the payload hash SigV4 signs (a presigned URL's is UNSIGNED-PAYLOAD unless its query
   * names one); SigV2 signs none.
   */
  contentSha256?: string;
}

/**
 * What the HTTP layer learned of a request's signature and connection that policy conditions read
 * (s3:signatureversion, s3:authType, s3:signatureAge, s3:TlsVersion); authorize.ts turns it into keys.
 */
export interface RequestAuth {
  signature?: SignatureFacts;
  /** The connection's TLS version as AWS writes it (`1.2`, `1.3`); absent over plain HTTP. */
  tlsVersion?: string;
}

/** A request body as the HTTP layer decoded it (aws-chunked framing removed, signatures checked). */
export interface DecodedBody {
  body: Readable;
  /** Decoded body length, or -1 when unknown (chunked transfer). */
  size: number;
  /** Trailing headers of an aws-chunked body (names lower-cased); complete once `body` has ended. */
  trailers: ReadonlyMap<string, string>;
}

/**
 * An authenticated request as the HTTP layer hands it over: the API authorizes it, and only then asks for
 * the body (so a refused request never has its body sent, Expect: 100-continue included).
 */
export interface IncomingRequest {
  op: Operation;
  requestId: string;
  method: string;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  /** undefined for anonymous requests (allowed by a bucket policy or ACL). */
  caller?: Caller;
  /** Client address and whether the connection is TLS (policy conditions aws:SourceIp, aws:SecureTransport). */
  sourceIp: string;
  secure: boolean;
  /** The request's signature and TLS version, for the conditions that read them. */
  auth: RequestAuth;
  /** How the client addressed this server, for the absolute URLs S3 answers with (Location). */
  endpoint?: Endpoint;
  log: ApiLogger;
  openBody(): DecodedBody;
}

/** What a handler gets: the authorized request with its decoded, authenticated body. */
export interface S3Request extends Omit<IncomingRequest, 'openBody'>, DecodedBody {}

export interface Endpoint {
  /** `http://host[:port]` as the client named it (its Host header). */
  base: string;
  /** The bucket is named by the host (virtual-host style), not by the path. */
  virtualHost: boolean;
}

/** The absolute URL of an object, as S3 gives it in Location (POST uploads, CompleteMultipartUpload). */
export function objectUrl(endpoint: Endpoint | undefined, bucket: string, key: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (!endpoint) return `/${encodeURIComponent(bucket)}/${path}`;
  return endpoint.virtualHost ? `${endpoint.base}/${path}` : `${endpoint.base}/${encodeURIComponent(bucket)}/${path}`;
}

/** Which of a version's metadata a request changed in place. */
export interface MetadataChange {
  key: string;
  versionId: string;
  what: 'tagging' | 'retention' | 'legal-hold';
}

export interface S3Response {
  status: number;
  headers: Record<string, string | number>;
  body?: string | Buffer | Readable;
  /**
   * What the operation did to objects, for bucket notifications: `handle` (api/index.ts) queues them once the
   * handler succeeded, before the answer goes out. Never sent to the client.
   */
  events?: ObjectEvent[];
  /**
   * A version's tags, retention or legal hold changed (no event of its own): `handle` queues it for bucket
   * replication like the events. Never sent to the client.
   */
  metadataChange?: MetadataChange;
  /** Called once the answer has gone out (or its connection closed): the admin API's service restart/stop. */
  afterSend?: () => void;
}

export function xmlResponse(
  xml: string,
  status = 200,
  headers: Record<string, string | number> = {},
  events?: ObjectEvent[],
): S3Response {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body: xml, events };
}

export function emptyResponse(status = 200, headers: Record<string, string | number> = {}): S3Response {
  return { status, headers };
}
