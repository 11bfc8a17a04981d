// Versioning through the S3 gateway: the backend's own. PutBucketVersioning is sent on to the backend (a backend
// that cannot version answers NotImplemented, and that is the answer), version ids on GET, HEAD, DELETE, tagging
// and copies are the backend's, and ListObjectVersions is its listing. Cairn keeps no versioning state of its own:
// what getBucketConfig says of a bucket's versioning is the backend's GetBucketVersioning answer, or what the
// gateway set. For a bucket whose configuration the gateway keeps (it made the bucket, or was given a policy, tags,
// ... for it) it is asked for once per process, as that configuration is read once: a change made on the backend
// directly shows after a restart. For another bucket the answer (which also says the bucket exists) is trusted
// for a few seconds (TRUST_MS), as the HeadBucket it replaces was.
// Delete markers are what the backend answers for them (x-amz-delete-marker on a 404 or 405): an ObjectInfo with
// deleteMarker set, which the API layer answers as it answers the direct server's.
import type * as L from '../object-layer.js';

/** How long the backend's word on a bucket's versioning is trusted (a change made on the backend directly). */
const TRUST_MS = 5000;
const KEPT_MAX = 10_000;

/** A backend request (S3GatewayObjects.call): its failure as Cairn's S3 error. */
type Ask = (bucket: string) => Promise<L.VersioningState>;

export class BackendVersioning {
  private readonly known = new Map<string, { state: L.VersioningState; until: number }>();
  private readonly asking = new Map<string, Promise<L.VersioningState>>();
  /** The configurations handed out, by bucket: the same frozen object while neither part changes. */
  private readonly merged = new WeakMap<L.BucketConfig, Map<L.VersioningState, L.BucketConfig>>();

  /** `ask`: the backend's GetBucketVersioning (NoSuchBucket when the bucket is missing). */
  constructor(private readonly ask: Ask) {}

  /**
   * The bucket's versioning as the backend has it (NoSuchBucket, ServiceUnavailable: as the backend answers);
   * `kept`: the gateway keeps the bucket's configuration (the answer is kept for good).
   */
  async state(bucket: string, kept = false): Promise<L.VersioningState> {
    const k = this.known.get(bucket);
    if (k && k.until > performance.now()) return k.state;
    let p = this.asking.get(bucket);
    if (!p) {
      p = this.ask(bucket).finally(() => this.asking.delete(bucket));
      this.asking.set(bucket, p);
      p.then(
        (state) => this.remember(bucket, state, kept),
        () => this.known.delete(bucket),
      );
    }
    return p;
  }

  /** The backend has `state` for the bucket (a bucket made, or PutBucketVersioning, through the gateway). */
  remember(bucket: string, state: L.VersioningState, kept: boolean): void {
    if (this.known.size >= KEPT_MAX) this.known.clear();
    this.known.set(bucket, { state, until: kept ? Number.POSITIVE_INFINITY : performance.now() + TRUST_MS });
  }

  forget(bucket: string): void {
    this.known.delete(bucket);
  }

  /** `config` (frozen) with the backend's versioning: one frozen object per pair, kept while `config` is. */
  withState(config: L.BucketConfig, state: L.VersioningState): L.BucketConfig {
    if (state === 'Unversioned') return config;
    let byState = this.merged.get(config);
    if (!byState) this.merged.set(config, (byState = new Map()));
    let out = byState.get(state);
    if (!out) byState.set(state, (out = Object.freeze({ ...config, versioning: state })));
    return out;
  }

  /**
   * The version id to send the backend for a version the API layer names: 'null' is sent as it is to a bucket
   * that has versions (there it names the null version, not the latest); to an unversioned bucket the null
   * version is the only one, and no id is sent (a backend without versioning may not know the parameter).
   */
  async param(bucket: string, versionId: string | undefined): Promise<string | undefined> {
    if (versionId === undefined) return undefined;
    if (versionId !== 'null') return versionId;
    return (await this.state(bucket).catch(() => 'Unversioned')) === 'Unversioned' ? undefined : 'null';
  }
}

/**
 * `config` with a versioning that cannot be read (the backend unreachable): reading `versioning` (GetBucketVersioning,
 * a PUT, a copy of the configuration) throws `why` (ServiceUnavailable), so no request is answered with an invented
 * state; the other fields (policy, tags, CORS, ...) read as kept. Made for each request: nothing of it is kept.
 */
export function unknownVersioning(config: L.BucketConfig, why: Error): L.BucketConfig {
  const out = { ...config };
  Object.defineProperty(out, 'versioning', {
    enumerable: true,
    get() {
      throw why;
    },
  });
  return Object.freeze(out);
}

/** The backend's answer for a delete marker (404 for the latest, 405 named by id): its headers, lower-case. */
export function deleteMarkerInfo(
  bucket: string,
  key: string,
  headers: Record<string, string | undefined> | undefined,
  named: boolean,
): L.ObjectInfo | undefined {
  if (headers?.['x-amz-delete-marker'] !== 'true') return undefined;
  const modified = headers['last-modified'] ? new Date(headers['last-modified']) : undefined;
  return {
    bucket,
    key,
    versionId: headers['x-amz-version-id'] ?? 'null',
    isLatest: !named,
    deleteMarker: true,
    size: 0,
    etag: '',
    lastModified: modified && !Number.isNaN(modified.getTime()) ? modified : new Date(0),
    storageClass: 'STANDARD',
    contentHeaders: {},
    userMetadata: {},
  };
}
