// A bucket's ReplicationConfiguration: parsed and validated as AWS and MinIO validate it, stored as the canonical
// document (BucketConfig.replication), parsed once per change (bucket-settings.ts), and asked which targets a
// write or a delete goes to (`targetsFor`).
//
// Rules: ID, Priority, Status, a Filter (Prefix, one Tag, or And of a prefix and tags; or the legacy top-level
// Prefix), DeleteMarkerReplication, MinIO's DeleteReplication (versioned deletes), ExistingObjectReplication,
// Destination (Bucket: the ARN of one of the bucket's replication targets, or with a Role naming the target,
// `arn:aws:s3:::<its bucket>` as MinIO's legacy form; StorageClass). What Cairn does not do is refused:
// replication time control and metrics, SSE-KMS object selection, account and owner translation, encryption
// of replicas.
import { S3Error } from '../../errors.js';
import { container, filterXml, integer, only, parseFilter, type LifecycleFilter } from '../lifecycle/config.js';
import { parseXml, str, toXml } from '../xml.js';

export interface ReplicationRule {
  id: string;
  priority: number;
  enabled: boolean;
  filter: LifecycleFilter;
  form: 'legacy-prefix' | 'empty' | 'prefix' | 'tag' | 'and';
  deleteMarkerReplication: boolean;
  deleteReplication: boolean;
  existingObjects: boolean;
  /** ReplicaModifications (SourceSelectionCriteria); MinIO's default: Enabled. */
  replicaModifications: boolean;
  /** The Destination Bucket as sent. */
  destination: string;
  storageClass?: string;
  /** The target the rule replicates to (the destination ARN, or the Role's). */
  targetArn: string;
}

export interface ReplicationConfiguration {
  role: string;
  rules: ReplicationRule[];
}

export const MAX_RULES = 1000;
const MAX_ID = 255;
const LEGACY_DESTINATION = 'arn:aws:s3:::';
const RULE_ELEMENTS = [
  'ID',
  'Priority',
  'Status',
  'Filter',
  'Prefix',
  'Destination',
  'DeleteMarkerReplication',
  'DeleteReplication',
  'ExistingObjectReplication',
  'SourceSelectionCriteria',
];

function status(v: unknown, what: string): boolean | undefined {
  if (v === undefined) return undefined;
  const o = container(v);
  only(o, ['Status']);
  const s = str(o.Status);
  if (s !== 'Enabled' && s !== 'Disabled')
    throw new S3Error('MalformedXML', `${what} Status must be Enabled or Disabled`);
  return s === 'Enabled';
}

function refuse(what: string): never {
  throw new S3Error('NotImplemented', `${what} in a replication rule is not implemented`);
}

function parseDestination(v: unknown): { bucket: string; storageClass?: string } {
  if (v === undefined)
    throw new S3Error('MalformedXML', 'Missing required parameter `Destination` in Replication rule');
  const o = container(v);
  for (const k of Object.keys(o)) {
    if (k === 'Bucket' || k === 'StorageClass') continue;
    if (['Account', 'AccessControlTranslation', 'EncryptionConfiguration', 'ReplicationTime', 'Metrics'].includes(k))
      refuse(`Destination ${k}`);
    throw new S3Error('MalformedXML');
  }
  const bucket = str(o.Bucket) ?? '';
  if (bucket === '') throw new S3Error('MalformedXML', 'Missing required parameter `Destination` in Replication rule');
  const storageClass = str(o.StorageClass);
  if (storageClass !== undefined && storageClass !== 'STANDARD' && storageClass !== 'REDUCED_REDUNDANCY')
    throw new S3Error('InvalidStorageClass', `Replicas cannot be stored as ${storageClass.slice(0, 64)}`);
  return { bucket, storageClass };
}

function parseSelection(v: unknown): boolean {
  if (v === undefined) return true;
  const o = container(v);
  only(o, ['ReplicaModifications', 'SseKmsEncryptedObjects']);
  if (status(o.SseKmsEncryptedObjects, 'SseKmsEncryptedObjects')) refuse('SseKmsEncryptedObjects');
  return status(o.ReplicaModifications, 'ReplicaModifications') ?? true;
}

function parseRule(v: unknown, role: string): ReplicationRule {
  const o = container(v);
  for (const k of Object.keys(o)) {
    if (!RULE_ELEMENTS.includes(k)) throw new S3Error('MalformedXML');
    if (Array.isArray(o[k])) throw new S3Error('MalformedXML');
  }
  const id = str(o.ID) ?? '';
  if (id.length > MAX_ID) throw new S3Error('InvalidArgument', 'ID must be less than 255 characters');
  const s = str(o.Status);
  if (s === undefined || s === '') throw new S3Error('MalformedXML', 'Status should not be empty');
  if (s !== 'Enabled' && s !== 'Disabled')
    throw new S3Error('MalformedXML', 'Status must be set to either Enabled or Disabled');
  if (o.Prefix !== undefined && o.Filter !== undefined) throw new S3Error('MalformedXML');
  const parsed =
    o.Filter !== undefined
      ? parseFilter(o.Filter)
      : { filter: { prefix: str(o.Prefix) ?? '', tags: [] }, form: 'legacy-prefix' as const };
  if (parsed.filter.sizeGreaterThan !== undefined || parsed.filter.sizeLessThan !== undefined)
    throw new S3Error('MalformedXML', 'A replication rule filters by prefix and tags only');
  const priority = integer(o.Priority);
  if (priority === undefined && o.Filter !== undefined) throw new S3Error('MalformedXML', 'Priority must be specified');
  if (priority !== undefined && priority < 0) throw new S3Error('InvalidArgument', 'Priority must be non-negative');
  const deleteMarkers = status(o.DeleteMarkerReplication, 'DeleteMarkerReplication');
  if (deleteMarkers === undefined) throw new S3Error('MalformedXML', 'DeleteMarkerReplication must be specified');
  if (deleteMarkers && parsed.filter.tags.length > 0)
    throw new S3Error(
      'InvalidRequest',
      'Delete marker replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide for more information.',
    );
  const destination = parseDestination(o.Destination);
  let targetArn = destination.bucket;
  if (destination.bucket.startsWith(LEGACY_DESTINATION)) {
    if (role === '') throw new S3Error('MalformedXML', 'Missing required parameter `Role` in ReplicationConfiguration');
    targetArn = role;
  } else if (role !== '' && destination.bucket !== role) {
    throw new S3Error('MalformedXML', '`Role` should be empty in ReplicationConfiguration for multiple targets');
  }
  return {
    id,
    priority: priority ?? 0,
    enabled: s === 'Enabled',
    filter: parsed.filter,
    form: parsed.form as ReplicationRule['form'],
    deleteMarkerReplication: deleteMarkers,
    deleteReplication: status(o.DeleteReplication, 'DeleteReplication') ?? false,
    existingObjects: status(o.ExistingObjectReplication, 'ExistingObjectReplication') ?? false,
    replicaModifications: parseSelection(o.SourceSelectionCriteria),
    destination: destination.bucket,
    storageClass: destination.storageClass,
    targetArn,
  };
}

/**
 * Parses and validates a ReplicationConfiguration document (MalformedXML for what the schema or MinIO's
 * validation refuses, AWS's InvalidArgument / InvalidRequest where AWS answers those). Whether the ARNs name
 * targets is the caller's check (they depend on the bucket).
 */
export function parseReplicationConfiguration(xml: string): ReplicationConfiguration {
  const doc = parseXml(xml, 'ReplicationConfiguration');
  only(doc, ['Role', 'Rule']);
  if (Array.isArray(doc.Role)) throw new S3Error('MalformedXML');
  const role = str(doc.Role) ?? '';
  const raw = doc.Rule === undefined ? [] : Array.isArray(doc.Rule) ? doc.Rule : [doc.Rule];
  if (raw.length === 0) throw new S3Error('MalformedXML', 'Replication configuration should have at least one rule');
  if (raw.length > MAX_RULES)
    throw new S3Error('MalformedXML', 'Replication configuration allows a maximum of 1000 rules');
  const rules = raw.map((r) => parseRule(r, role));
  const priorities = new Set<number>();
  const ids = new Set<string>();
  for (const r of rules) {
    if (priorities.has(r.priority))
      throw new S3Error('MalformedXML', 'Replication configuration has duplicate priority');
    priorities.add(r.priority);
    if (r.id !== '' && ids.has(r.id))
      throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
    ids.add(r.id);
  }
  return { role, rules };
}

const enabled = (b: boolean) => ({ Status: b ? 'Enabled' : 'Disabled' });

/** The canonical document: what is stored and what GetBucketReplication answers. */
export function replicationXml(c: ReplicationConfiguration): string {
  return toXml('ReplicationConfiguration', {
    Role: c.role || undefined,
    Rule: c.rules.map((r) => ({
      ID: r.id || undefined,
      Priority: r.priority,
      Status: r.enabled ? 'Enabled' : 'Disabled',
      ...filterXml(r),
      SourceSelectionCriteria: { ReplicaModifications: enabled(r.replicaModifications) },
      ExistingObjectReplication: enabled(r.existingObjects),
      Destination: { Bucket: r.destination, StorageClass: r.storageClass },
      DeleteMarkerReplication: enabled(r.deleteMarkerReplication),
      DeleteReplication: enabled(r.deleteReplication),
    })),
  });
}

/** What is being replicated: a version written, a delete marker, a versioned delete, or a version's metadata. */
export type ReplicationKind = 'object' | 'delete-marker' | 'delete-version' | 'metadata';

/**
 * The targets (ARNs) a change of `key` goes to: for each target, the enabled rule of highest priority whose
 * filter names the key (and its tags) decides, as MinIO's FilterActionableRules/Replicate do.
 */
export function targetsFor(
  c: ReplicationConfiguration,
  key: string,
  tagging: string | undefined,
  kind: ReplicationKind,
  existing = false,
): { arn: string; rule: ReplicationRule }[] {
  let tags: Map<string, string> | undefined;
  const decided = new Map<string, ReplicationRule>();
  const byPriority = [...c.rules].sort((a, b) => b.priority - a.priority);
  for (const r of byPriority) {
    if (!r.enabled || decided.has(r.targetArn) || !key.startsWith(r.filter.prefix)) continue;
    if (r.filter.tags.length > 0) {
      tags ??= new Map(tagging ? new URLSearchParams(tagging) : []);
      if (!r.filter.tags.every((t) => tags!.get(t.key) === t.value)) continue;
    }
    decided.set(r.targetArn, r);
  }
  const out: { arn: string; rule: ReplicationRule }[] = [];
  for (const [arn, rule] of decided) {
    if (existing && !rule.existingObjects) continue;
    if (kind === 'delete-marker' && !rule.deleteMarkerReplication) continue;
    if (kind === 'delete-version' && !rule.deleteReplication) continue;
    out.push({ arn, rule });
  }
  return out;
}
