// A bucket's NotificationConfiguration (PutBucketNotificationConfiguration): Queue, Topic and CloudFunction
// configurations, each naming a target by ARN, the event types it wants and an optional key prefix/suffix
// filter. Parsed and validated here; stored as the canonical document (BucketConfig.notification) and parsed
// once per change by bucket-settings.ts. Which events exist and how a key matches a rule is decided here too.
import { randomUUID } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { many, parseXml, str, toXml, type XmlValue } from '../xml.js';

/**
 * The events Cairn emits (AWS's names; ObjectAccessed is MinIO's addition, which its clients use). Lifecycle
 * actions have their own, as in AWS: an expired version or delete marker removed is LifecycleExpiration:Delete,
 * an expired current version hidden by a delete marker LifecycleExpiration:DeleteMarkerCreated, data moved to a
 * tier LifecycleTransition (they are not ObjectRemoved events). Replication tells a change that failed to reach
 * its target (OperationFailedReplication, AWS's name: once per change, at its first failed attempt, as its
 * status turns FAILED) and one that reached it (OperationCompletedReplication, MinIO's). AWS's threshold events
 * (OperationMissedThreshold, ...) belong to Replication Time Control, which Cairn does not have: refused.
 */
export const EVENT_NAMES = [
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectAccessed:Get',
  's3:ObjectAccessed:Head',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:LifecycleTransition',
  's3:Replication:OperationFailedReplication',
  's3:Replication:OperationCompletedReplication',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

const WILDCARDS = [
  's3:ObjectCreated:*',
  's3:ObjectRemoved:*',
  's3:ObjectAccessed:*',
  's3:LifecycleExpiration:*',
  's3:Replication:*',
];
const KNOWN = new Set<string>([...EVENT_NAMES, ...WILDCARDS]);

/** The three kinds of configuration and the element naming each one's destination. */
const KINDS = [
  { element: 'QueueConfiguration', arn: 'Queue' },
  { element: 'TopicConfiguration', arn: 'Topic' },
  { element: 'CloudFunctionConfiguration', arn: 'CloudFunction' },
] as const;
type Kind = (typeof KINDS)[number]['element'];

export interface NotificationRule {
  kind: Kind;
  id: string;
  /** The destination ARN as the client wrote it (given back by GetBucketNotificationConfiguration). */
  arn: string;
  /** `<ID>:<type>` of the target the ARN names (see targetKeyOf). */
  target: string;
  /** Event types as written: names or `<family>:*` wildcards. */
  events: string[];
  prefix: string;
  suffix: string;
}

/** A filter value may not exceed 1,024 bytes (AWS and MinIO). */
const MAX_FILTER_VALUE = 1024;

const ARN = /^arn:(?:cairn|minio):sqs:([^:]*):([^:]+):([^:]+)$/;

/**
 * `<ID>:<type>` of the target an ARN names (`arn:cairn:sqs::<ID>:<type>`; MinIO's `arn:minio:sqs:...`, which
 * mc and the MinIO SDKs send, too), or undefined when it is not such an ARN or names another region.
 */
export function targetKeyOf(arn: string, region?: string): string | undefined {
  const m = ARN.exec(arn);
  if (!m || (region !== undefined && m[1] !== '' && m[1] !== region)) return undefined;
  return `${m[2]}:${m[3]}`;
}

const badArn = () =>
  new S3Error(
    'InvalidArgument',
    'A specified destination ARN does not exist or is not well-formed. Verify the destination ARN.',
  );

/** Does the event type of a rule (a name or a wildcard) cover `name`? */
export function covers(ruleEvent: string, name: string): boolean {
  return ruleEvent === name || (ruleEvent.endsWith(':*') && name.startsWith(ruleEvent.slice(0, -1)));
}

/** Does the rule want this event for this key? Prefix and suffix are plain string comparisons (linear). */
export function ruleMatches(rule: NotificationRule, name: EventName, key: string): boolean {
  return key.startsWith(rule.prefix) && key.endsWith(rule.suffix) && rule.events.some((e) => covers(e, name));
}

/** InvalidArgument for an event type Cairn does not emit. */
export function checkEventTypes(events: string[]): void {
  for (const e of events)
    if (!KNOWN.has(e)) throw new S3Error('InvalidArgument', 'A specified event is not supported for notifications.');
}

/** InvalidArgument for a prefix or suffix longer than AWS allows. */
export function checkFilterValue(value: string): void {
  if (Buffer.byteLength(value) > MAX_FILTER_VALUE)
    throw new S3Error('InvalidArgument', 'Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation');
}

function parseFilter(v: unknown): { prefix: string; suffix: string } {
  if (v === undefined) return { prefix: '', suffix: '' };
  if (typeof v !== 'object' || v === null) throw new S3Error('MalformedXML');
  const s3Key = (v as Record<string, unknown>).S3Key;
  if (s3Key === undefined) return { prefix: '', suffix: '' };
  if (typeof s3Key !== 'object' || s3Key === null) throw new S3Error('MalformedXML');
  const out: Record<string, string | undefined> = {};
  for (const r of many((s3Key as Record<string, unknown>).FilterRule)) {
    if (typeof r !== 'object' || r === null) throw new S3Error('MalformedXML');
    const rule = r as Record<string, unknown>;
    const name = str(rule.Name)?.toLowerCase();
    const value = str(rule.Value) ?? '';
    if (name !== 'prefix' && name !== 'suffix')
      throw new S3Error('InvalidArgument', 'filter rule name must be either prefix or suffix');
    if (out[name] !== undefined)
      throw new S3Error('InvalidArgument', `Cannot specify more than one ${name} rule in a filter.`);
    checkFilterValue(value);
    out[name] = value;
  }
  return { prefix: out.prefix ?? '', suffix: out.suffix ?? '' };
}

const eventsOverlap = (a: string[], b: string[]) => a.some((x) => b.some((y) => covers(x, y) || covers(y, x)));
const prefixesOverlap = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
const suffixesOverlap = (a: string, b: string) => a.endsWith(b) || b.endsWith(a);

/**
 * AWS refuses two configurations that could both take one event: common event types with overlapping
 * prefixes and overlapping suffixes.
 */
function checkOverlaps(rules: NotificationRule[]): void {
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const a = rules[i];
      const b = rules[j];
      if (
        eventsOverlap(a.events, b.events) &&
        prefixesOverlap(a.prefix, b.prefix) &&
        suffixesOverlap(a.suffix, b.suffix)
      )
        throw new S3Error(
          'InvalidArgument',
          'Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes ' +
            'are overlapping for the same event type.',
        );
    }
  }
}

export interface ParseOptions {
  /** The server's region: an ARN naming another is refused. Absent: not checked (a stored document). */
  region?: string;
  /** Is a target of this `<ID>:<type>` configured? Absent: not checked (a stored document). */
  targetExists?: (target: string) => boolean;
}

/**
 * Parses and validates a NotificationConfiguration document: MalformedXML for what is not one, InvalidArgument
 * (with AWS's or MinIO's message) for unknown events, ARNs, filter rules and overlapping configurations.
 * Configurations without an Id get a generated one, as in AWS.
 */
export function parseNotification(xml: string, opts: ParseOptions): NotificationRule[] {
  const doc = parseXml(xml, 'NotificationConfiguration');
  if (typeof doc !== 'object' || doc === null) throw new S3Error('MalformedXML');
  if (doc.EventBridgeConfiguration !== undefined)
    throw new S3Error('NotImplemented', 'EventBridge notifications are not implemented');
  const rules: NotificationRule[] = [];
  for (const kind of KINDS) {
    for (const c of many(doc[kind.element])) {
      if (typeof c !== 'object' || c === null) throw new S3Error('MalformedXML');
      const o = c as Record<string, unknown>;
      const arn = str(o[kind.arn]);
      if (arn === undefined) throw new S3Error('MalformedXML');
      const target = targetKeyOf(arn, opts.region);
      if (target === undefined || (opts.targetExists && !opts.targetExists(target))) throw badArn();
      const events = many(o.Event).map((e) => str(e) ?? '');
      if (events.length === 0) throw new S3Error('MalformedXML');
      checkEventTypes(events);
      const id = str(o.Id) ?? randomUUID();
      rules.push({ kind: kind.element, id, arn, target, events, ...parseFilter(o.Filter) });
    }
  }
  const ids = new Set(rules.map((r) => r.id));
  if (ids.size !== rules.length) throw new S3Error('InvalidArgument', 'Same ID used for multiple configurations.');
  checkOverlaps(rules);
  return rules;
}

/** The canonical document of validated rules (what is stored and what GetBucketNotificationConfiguration gives). */
export function notificationXml(rules: NotificationRule[]): string {
  const body: Record<string, XmlValue> = {};
  for (const kind of KINDS) {
    const mine = rules.filter((r) => r.kind === kind.element);
    if (mine.length === 0) continue;
    body[kind.element] = mine.map((r) => {
      const filterRules: XmlValue[] = [];
      if (r.prefix !== '') filterRules.push({ Name: 'prefix', Value: r.prefix });
      if (r.suffix !== '') filterRules.push({ Name: 'suffix', Value: r.suffix });
      return {
        Id: r.id,
        [kind.arn]: r.arn,
        Event: r.events,
        Filter: filterRules.length ? { S3Key: { FilterRule: filterRules } } : undefined,
      };
    });
  }
  return toXml('NotificationConfiguration', body);
}
