// One event record in the AWS S3 event message format (what AWS documents in "Event message structure",
// with MinIO's additions its clients read: `source`, `s3.object.contentType`). Built from what the API layer
// knows after an operation succeeded; it never carries credentials, signatures or request headers.
import type { ObjectInfo } from '../../storage/object-layer.js';
import type { EventName } from './config.js';

/** What happened to one object, as the handler of a successful operation reports it (S3Response.events). */
export interface ObjectEvent {
  name: EventName;
  key: string;
  size?: number;
  /** Without quotes. */
  etag?: string;
  versionId?: string;
  contentType?: string;
  /** s3:LifecycleTransition: the storage class (tier) the data moved to. */
  destinationStorageClass?: string;
  /**
   * Bucket replication (never in a record): the version was written PENDING at these targets by this change
   * (api/replication planReplication), so queueing it reads and writes no metadata again.
   */
  replication?: PlannedReplication;
}

/** A new version's replication, decided before it is written (api/replication planReplication). */
export interface PlannedReplication {
  change: string;
  targets: { arn: string; storageClass?: string }[];
}

/** The event of an operation that wrote or read this version. */
export function objectEvent(name: EventName, info: ObjectInfo): ObjectEvent {
  return {
    name,
    key: info.key,
    size: info.size,
    etag: info.etag,
    versionId: info.versionId,
    contentType: info.contentHeaders['content-type'],
  };
}

/** Who asked and how: the request's side of a record. */
export interface EventOrigin {
  bucket: string;
  region: string;
  requestId: string;
  /** Access key of the caller ('' for anonymous requests); never a secret. */
  principal: string;
  /** Access key of the bucket's owner. */
  owner: string;
  sourceIp: string;
  userAgent?: string;
}

export interface EventRecord {
  eventVersion: string;
  eventSource: string;
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { principalId: string; region: string; sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string };
  s3: {
    s3SchemaVersion: string;
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: {
      key: string;
      size?: number;
      eTag?: string;
      contentType?: string;
      versionId?: string;
      sequencer: string;
    };
  };
  source: { host: string; port: string; userAgent: string };
  /** Lifecycle transitions only, as AWS writes them. */
  lifecycleEventData?: { transitionEventData: { destinationStorageClass: string } };
}

/**
 * Keys are form-URL-encoded in records, as AWS does (`red flower.jpg` is `red+flower.jpg`), except `/`, which
 * AWS leaves as it is (`path/file.txt`; MinIO writes `path%2Ffile.txt`). Decoders of either form read both.
 */
export const encodeEventKey = (key: string): string =>
  new URLSearchParams({ k: key }).toString().slice(2).replaceAll('%2F', '/');

/** Event names without their `s3:` prefix, as AWS writes them in records (`ObjectCreated:Put`). */
const recordName = (name: EventName): string => name.slice(3);

export function eventRecord(
  e: ObjectEvent,
  origin: EventOrigin,
  configurationId: string,
  time: Date,
  sequencer: string,
): EventRecord {
  const removed = e.name.startsWith('s3:ObjectRemoved:') || e.name.startsWith('s3:LifecycleExpiration:');
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: origin.region,
    eventTime: time.toISOString(),
    eventName: recordName(e.name),
    userIdentity: { principalId: origin.principal },
    requestParameters: { principalId: origin.principal, region: origin.region, sourceIPAddress: origin.sourceIp },
    responseElements: { 'x-amz-request-id': origin.requestId },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId,
      bucket: {
        name: origin.bucket,
        ownerIdentity: { principalId: origin.owner },
        arn: `arn:aws:s3:::${origin.bucket}`,
      },
      object: {
        key: encodeEventKey(e.key),
        size: removed ? undefined : e.size,
        eTag: removed ? undefined : e.etag,
        contentType: removed ? undefined : e.contentType,
        versionId: e.versionId && e.versionId !== 'null' ? e.versionId : undefined,
        sequencer,
      },
    },
    source: { host: origin.sourceIp, port: '', userAgent: origin.userAgent ?? '' },
    ...(e.destinationStorageClass === undefined
      ? {}
      : { lifecycleEventData: { transitionEventData: { destinationStorageClass: e.destinationStorageClass } } }),
  };
}

/**
 * Sequencers only grow within this process and across restarts while the clock does not go back: the
 * time in microseconds, bumped past the last one given. 16 upper-case hex digits, compared as strings.
 */
export class Sequencer {
  private last = 0n;

  next(nowMs: number): string {
    const t = BigInt(Math.floor(nowMs)) * 1000n;
    this.last = t > this.last ? t : this.last + 1n;
    return this.last.toString(16).toUpperCase().padStart(16, '0');
  }
}
