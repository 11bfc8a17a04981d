// A bucket's replication through the calls mc and minio-py make: its remote targets with MinIO's admin API
// (list-remote-targets, set-remote-target with the body sealed with the session's secret as madmin-go seals
// it, remove-remote-target) and its rules with S3's ?replication subresource. As with notifications, the rules
// document read is kept as it came: removing a rule takes its element out, adding one appends a Rule, so what
// the page does not show (tags, storage class, replica modifications) goes back unchanged. A target's
// credentials are updated with set-remote-target?update=true&creds=true (madmin's UpdateRemoteTarget: the target
// as listed, with the new keys, sealed); existing objects are replicated again with S3's ?replication-reset
// (`mc replicate resync`), followed with ?replication-reset-status.
import { ApiError, call, checksumHeader, sessionOrLogin } from './client.js';
import { encryptData } from './madmin.js';
import { childText, editableCopy, parseXml, text, withoutChild } from './xml.js';

/** A target as list-remote-targets answers it (madmin's BucketTarget; its secret never comes back). */
export interface Target {
  arn: string;
  endpoint: string;
  secure: boolean;
  targetbucket: string;
  region?: string;
  credentials?: { accessKey?: string };
}

export interface RuleView {
  id: string;
  priority: number;
  enabled: boolean;
  prefix: string;
  /** The Destination Bucket: a target's ARN. */
  destination: string;
  deleteMarkers: boolean;
  existingObjects: boolean;
  /** The rule's element in the document (removed from it to delete the rule). */
  element: Element;
}

export interface Replication {
  targets: Target[];
  /** The bucket's ReplicationConfiguration, or undefined when it has none. */
  doc?: Document;
}

const admin = (name: string) => `admin/v3/${name}`;

export async function listTargets(bucket: string): Promise<Target[]> {
  const res = await call({
    bucket: 'minio',
    key: admin('list-remote-targets'),
    query: [
      ['bucket', bucket],
      ['type', 'replication'],
    ],
  });
  return ((await res.json()) as Target[] | null) ?? [];
}

/** The bucket's ReplicationConfiguration, or undefined when it has none. */
export async function getRules(bucket: string): Promise<Document | undefined> {
  try {
    return parseXml(await (await call({ bucket, query: [['replication', '']] })).text());
  } catch (e) {
    if (e instanceof ApiError && e.code === 'ReplicationConfigurationNotFoundError') return undefined;
    throw e;
  }
}

export async function getReplication(bucket: string): Promise<Replication> {
  const [targets, doc] = await Promise.all([listTargets(bucket), getRules(bucket)]);
  return { targets, doc };
}

export interface NewTarget {
  /** http(s)://host[:port] */
  url: string;
  targetBucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

/** `http(s)://host[:port]` as madmin's endpoint (host[:port]) and its `secure` flag. */
export function endpointOf(raw: string): { endpoint: string; secure: boolean } {
  let u: URL | undefined;
  try {
    u = new URL(raw.trim());
  } catch {
    // refused below
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search || u.username)
    throw new Error(`The target must be http(s)://host[:port], not ${raw}`);
  return { endpoint: u.host, secure: u.protocol === 'https:' };
}

/** Adds a target (the server probes it first): its ARN, which rules name as their destination. */
export async function addTarget(bucket: string, t: NewTarget): Promise<string> {
  const body = {
    sourcebucket: bucket,
    ...endpointOf(t.url),
    credentials: { accessKey: t.accessKey, secretKey: t.secretKey },
    targetbucket: t.targetBucket.trim(),
    type: 'replication',
    region: t.region.trim(),
  };
  const sealed = await encryptData(sessionOrLogin().secretAccessKey, new TextEncoder().encode(JSON.stringify(body)));
  const res = await call({
    method: 'PUT',
    bucket: 'minio',
    key: admin('set-remote-target'),
    query: [['bucket', bucket]],
    body: sealed,
  });
  return String(await res.json());
}

export async function removeTarget(bucket: string, arn: string): Promise<void> {
  await call({
    method: 'DELETE',
    bucket: 'minio',
    key: admin('remove-remote-target'),
    query: [
      ['bucket', bucket],
      ['arn', arn],
    ],
  });
}

const child = (el: Element, tag: string): Element | undefined =>
  Array.from(el.children).find((c) => c.localName === tag);
const enabled = (el: Element, tag: string) => {
  const c = child(el, tag);
  return c !== undefined && childText(c, 'Status') === 'Enabled';
};

export function rulesOf(doc: Document | undefined): RuleView[] {
  if (!doc) return [];
  return Array.from(doc.documentElement.children)
    .filter((c) => c.localName === 'Rule')
    .map((r) => {
      const filter = child(r, 'Filter');
      return {
        id: childText(r, 'ID'),
        priority: Number(childText(r, 'Priority') || 0),
        enabled: childText(r, 'Status') === 'Enabled',
        // The filter's prefix (also inside And), or the legacy rule-level Prefix.
        prefix: filter ? text(filter, 'Prefix') : childText(r, 'Prefix'),
        destination: childText(child(r, 'Destination') ?? r, 'Bucket'),
        deleteMarkers: enabled(r, 'DeleteMarkerReplication'),
        existingObjects: enabled(r, 'ExistingObjectReplication'),
        element: r,
      };
    });
}

/** New credentials for a target (the server probes them first; a refusal leaves the stored ones). */
export async function updateCredentials(bucket: string, t: Target, accessKey: string, secretKey: string) {
  // The target as listed (every field madmin's BucketTarget has), with the new keys.
  const body = {
    ...t,
    sourcebucket: bucket,
    type: 'replication',
    credentials: { accessKey: accessKey.trim(), secretKey },
  };
  const sealed = await encryptData(sessionOrLogin().secretAccessKey, new TextEncoder().encode(JSON.stringify(body)));
  await call({
    method: 'PUT',
    bucket: 'minio',
    key: admin('set-remote-target'),
    query: [
      ['bucket', bucket],
      ['update', 'true'],
      ['creds', 'true'],
    ],
    body: sealed,
  });
}

/**
 * One target's resync (MinIO's ResyncTarget, with Cairn's count of versions queued, whether the walk queuing
 * them has ended, and the versions counted before it began: absent while that count runs).
 */
export interface Resync {
  arn: string;
  resetid: string;
  resyncStatus: 'Ongoing' | 'Completed' | 'Failed';
  replicationCount: number;
  failedReplicationCount: number;
  queued: number;
  walked: boolean;
  total?: number;
}

/** A resync's progress as [done, of]: against the count made before its walk, the walk's own once it ended. */
export function resyncProgress(r: Resync): [number, number] | undefined {
  const done = r.replicationCount + r.failedReplicationCount;
  const total = r.walked ? r.queued : r.total;
  return total === undefined ? undefined : [done, Math.max(total, done)];
}

/** Starts replicating the bucket's existing objects to `arn` again (a rule naming it must allow existing objects). */
export async function startResync(bucket: string, arn: string): Promise<void> {
  await call({
    method: 'PUT',
    bucket,
    query: [
      ['replication-reset', ''],
      ['arn', arn],
    ],
  });
}

/** The bucket's resyncs, by target ARN (none run yet: empty). */
export async function resyncs(bucket: string): Promise<Record<string, Resync>> {
  const res = await call({ bucket, query: [['replication-reset-status', '']] });
  const { target } = (await res.json()) as { target: Resync[] | null };
  return Object.fromEntries((target ?? []).map((r) => [r.arn, r]));
}

async function put(bucket: string, doc: Document): Promise<void> {
  const body = new XMLSerializer().serializeToString(doc);
  await call({ method: 'PUT', bucket, query: [['replication', '']], body, headers: await checksumHeader(body) });
}

/** Removes a rule; the last one goes with the whole configuration (S3 keeps no empty one). */
export async function removeRule(bucket: string, doc: Document, rule: RuleView): Promise<void> {
  if (rulesOf(doc).length <= 1) {
    await call({ method: 'DELETE', bucket, query: [['replication', '']] });
    return;
  }
  await put(bucket, withoutChild(doc, rule.element));
}

export interface NewRule {
  id: string;
  prefix: string;
  arn: string;
  deleteMarkers: boolean;
  existingObjects: boolean;
}

/** Appends an enabled rule replicating keys under `prefix` to the target `arn`, after the others in priority. */
export async function addRule(bucket: string, doc: Document | undefined, r: NewRule): Promise<void> {
  const { target, el } = editableCopy(doc, 'ReplicationConfiguration');
  const priority = Math.max(0, ...rulesOf(doc).map((x) => x.priority + 1));
  const status = (on: boolean) => el('Status', on ? 'Enabled' : 'Disabled');
  target.documentElement.appendChild(
    el(
      'Rule',
      ...(r.id.trim() ? [el('ID', r.id.trim())] : []),
      el('Priority', String(priority)),
      el('Filter', el('Prefix', r.prefix)),
      el('Status', 'Enabled'),
      el('ExistingObjectReplication', status(r.existingObjects)),
      el('Destination', el('Bucket', r.arn)),
      el('DeleteMarkerReplication', status(r.deleteMarkers)),
    ),
  );
  await put(bucket, target);
}
