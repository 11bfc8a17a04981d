// A bucket's LifecycleConfiguration: parsed and validated here as AWS validates it, stored as the canonical
// document (BucketConfig.lifecycle) and parsed once per change by bucket-settings.ts. What the rules do is in
// rules.ts (which objects they name, when they are due) and scanner.ts (applying them).
//
// Accepted: Expiration (Days | Date at midnight UTC | ExpiredObjectDeleteMarker), NoncurrentVersionExpiration
// (NoncurrentDays, NewerNoncurrentVersions), AbortIncompleteMultipartUpload (DaysAfterInitiation); filters
// by prefix, tags and object size, or the legacy top-level Prefix; Transition (Days | Date) and
// NoncurrentVersionTransition (NoncurrentDays, NewerNoncurrentVersions) to a remote tier, named by its
// StorageClass (api/tier: the handler checks that the tier exists, InvalidStorageClass otherwise).
import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { parseXml, str, toXml, type XmlValue } from '../xml.js';

export interface LifecycleTag {
  key: string;
  value: string;
}

/** Which objects a rule names: all conditions hold (an empty filter names every object). */
export interface LifecycleFilter {
  prefix: string;
  tags: LifecycleTag[];
  /** Objects larger than this many bytes. */
  sizeGreaterThan?: number;
  /** Objects smaller than this many bytes. */
  sizeLessThan?: number;
}

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  filter: LifecycleFilter;
  /**
   * How the document named the objects, so GET gives back the shape that was put: the legacy top-level
   * Prefix, or a Filter holding nothing, one predicate, or And.
   */
  form: 'legacy-prefix' | 'empty' | 'prefix' | 'tag' | 'size-gt' | 'size-lt' | 'and';
  expiration?: { days?: number; date?: Date; expiredObjectDeleteMarker?: boolean };
  noncurrentExpiration?: { days: number; newerVersions?: number };
  abortMultipartDays?: number;
  /** Moves of current versions to remote tiers (StorageClass = the tier's name). */
  transitions?: { days?: number; date?: Date; storageClass: string }[];
  /** Moves of noncurrent versions to remote tiers. */
  noncurrentTransitions?: { days: number; newerVersions?: number; storageClass: string }[];
}

export interface LifecycleConfiguration {
  rules: LifecycleRule[];
}

export const MAX_RULES = 1000;
/** Elements a rule may reasonably hold (And with several tags): the request document's element budget. */
export const MAX_ELEMENTS_PER_RULE = 16;
const MAX_ID = 255;
const MAX_INT = 2 ** 31 - 1;
const DAY_MS = 86_400_000;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

const RULE_ELEMENTS = new Set([
  'ID',
  'Status',
  'Filter',
  'Prefix',
  'Expiration',
  'NoncurrentVersionExpiration',
  'AbortIncompleteMultipartUpload',
  'Transition',
  'NoncurrentVersionTransition',
]);

/** An element that holds children: `<X/>` parses as '' (nothing inside). Repeated: MalformedXML. */
export function container(v: unknown): Record<string, unknown> {
  if (v === '') return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new S3Error('MalformedXML');
  return v as Record<string, unknown>;
}

export function only(o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new S3Error('MalformedXML');
}

/** A whole number in XML (MalformedXML when it is not one); range checks are the caller's. */
export function integer(v: unknown): number | undefined {
  const s = str(v)?.trim();
  if (s === undefined) return undefined;
  if (!/^-?\d{1,10}$/.test(s) || Math.abs(Number(s)) > MAX_INT) throw new S3Error('MalformedXML');
  return Number(s);
}

/** Object sizes are 64-bit in S3's schema; anything beyond 2^53 is no size an object can have anyway. */
function size(v: unknown): number | undefined {
  const s = str(v)?.trim();
  if (s === undefined) return undefined;
  if (!/^-?\d{1,16}$/.test(s)) throw new S3Error('MalformedXML');
  const n = Number(s);
  if (n < 0) throw new S3Error('InvalidArgument', 'Object size filters must be non-negative integers');
  return n;
}

function positiveDays(v: unknown, what: string): number | undefined {
  const n = integer(v);
  if (n !== undefined && n <= 0) throw new S3Error('InvalidArgument', `'${what}' must be a positive integer`);
  return n;
}

function tag(v: unknown): LifecycleTag {
  const o = container(v);
  only(o, ['Key', 'Value']);
  const key = str(o.Key);
  const value = str(o.Value) ?? '';
  if (key === undefined) throw new S3Error('MalformedXML');
  if (key.length === 0 || [...key].length > 128)
    throw new S3Error('InvalidArgument', 'The TagKey you have provided is invalid');
  if ([...value].length > 256) throw new S3Error('InvalidArgument', 'The TagValue you have provided is invalid');
  return { key, value };
}

function prefixOf(v: unknown): string {
  // `<Prefix/>` is the empty prefix: every key.
  return str(v) ?? '';
}

function checkSizes(f: LifecycleFilter): void {
  if (f.sizeGreaterThan !== undefined && f.sizeLessThan !== undefined && f.sizeGreaterThan >= f.sizeLessThan)
    throw new S3Error('InvalidArgument', 'ObjectSizeGreaterThan must be less than ObjectSizeLessThan');
}

/** A Filter: at most one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, And (MalformedXML). */
export function parseFilter(v: unknown): { filter: LifecycleFilter; form: LifecycleRule['form'] } {
  const o = container(v);
  only(o, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And']);
  const present = Object.keys(o);
  if (present.length > 1) throw new S3Error('MalformedXML');
  const filter: LifecycleFilter = { prefix: '', tags: [] };
  switch (present[0]) {
    case undefined:
      return { filter, form: 'empty' };
    case 'Prefix':
      filter.prefix = prefixOf(o.Prefix);
      return { filter, form: 'prefix' };
    case 'Tag':
      filter.tags.push(tag(o.Tag));
      return { filter, form: 'tag' };
    case 'ObjectSizeGreaterThan':
      filter.sizeGreaterThan = size(o.ObjectSizeGreaterThan);
      return { filter, form: 'size-gt' };
    case 'ObjectSizeLessThan':
      filter.sizeLessThan = size(o.ObjectSizeLessThan);
      return { filter, form: 'size-lt' };
  }
  // And: two or more predicates, tag keys unique.
  const and = container(o.And);
  only(and, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
  if (Array.isArray(and.Prefix) || Array.isArray(and.ObjectSizeGreaterThan) || Array.isArray(and.ObjectSizeLessThan))
    throw new S3Error('MalformedXML');
  filter.prefix = prefixOf(and.Prefix);
  filter.tags = (Array.isArray(and.Tag) ? and.Tag : and.Tag === undefined ? [] : [and.Tag]).map(tag);
  filter.sizeGreaterThan = size(and.ObjectSizeGreaterThan);
  filter.sizeLessThan = size(and.ObjectSizeLessThan);
  const predicates =
    (and.Prefix !== undefined ? 1 : 0) +
    filter.tags.length +
    (filter.sizeGreaterThan !== undefined ? 1 : 0) +
    (filter.sizeLessThan !== undefined ? 1 : 0);
  if (predicates < 2) throw new S3Error('MalformedXML');
  if (new Set(filter.tags.map((t) => t.key)).size !== filter.tags.length)
    throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
  checkSizes(filter);
  return { filter, form: 'and' };
}

/** Expiration Date: ISO 8601, at midnight UTC (InvalidArgument otherwise, as AWS answers). */
function expirationDate(v: unknown): Date | undefined {
  const s = str(v)?.trim();
  if (s === undefined) return undefined;
  const ms = ISO_DATE_TIME.test(s) ? Date.parse(s) : Number.NaN;
  if (Number.isNaN(ms)) throw new S3Error('InvalidArgument', "'Date' must be in ISO 8601 format");
  if (ms % DAY_MS !== 0) throw new S3Error('InvalidArgument', "'Date' must be at midnight GMT");
  return new Date(ms);
}

function parseExpiration(v: unknown): NonNullable<LifecycleRule['expiration']> {
  const o = container(v);
  if ('ExpiredObjectAllVersions' in o)
    throw new S3Error('NotImplemented', 'ExpiredObjectAllVersions (a MinIO extension) is not implemented');
  only(o, ['Days', 'Date', 'ExpiredObjectDeleteMarker']);
  const days = positiveDays(o.Days, 'Days');
  const date = expirationDate(o.Date);
  const markerText = str(o.ExpiredObjectDeleteMarker)?.trim();
  if (markerText !== undefined && markerText !== 'true' && markerText !== 'false') throw new S3Error('MalformedXML');
  // Exactly one of Days, Date, ExpiredObjectDeleteMarker.
  const given = [days, date, markerText].filter((x) => x !== undefined).length;
  if (given !== 1) throw new S3Error('MalformedXML');
  return markerText !== undefined ? { expiredObjectDeleteMarker: markerText === 'true' } : { days, date };
}

function parseNoncurrentExpiration(v: unknown): NonNullable<LifecycleRule['noncurrentExpiration']> {
  const o = container(v);
  only(o, ['NoncurrentDays', 'NewerNoncurrentVersions']);
  const days = positiveDays(o.NoncurrentDays, 'NoncurrentDays');
  if (days === undefined) throw new S3Error('MalformedXML');
  const newer = integer(o.NewerNoncurrentVersions);
  if (newer !== undefined && (newer < 1 || newer > 100))
    throw new S3Error('InvalidArgument', "'NewerNoncurrentVersions' must be an integer between 1 and 100");
  return newer === undefined ? { days } : { days, newerVersions: newer };
}

/** A storage class as a transition names it: a remote tier's name (MinIO's rule; AWS's classes are its own). */
function transitionClass(v: unknown): string {
  const storageClass = str(v)?.trim();
  if (!storageClass) throw new S3Error('MalformedXML');
  if (storageClass.length > 64 || !/^[A-Za-z0-9_-]+$/.test(storageClass)) throw new S3Error('InvalidStorageClass');
  return storageClass;
}

function parseTransition(v: unknown): NonNullable<LifecycleRule['transitions']>[number] {
  const o = container(v);
  only(o, ['Days', 'Date', 'StorageClass']);
  const storageClass = transitionClass(o.StorageClass);
  const days = integer(o.Days);
  if (days !== undefined && days < 0)
    throw new S3Error('InvalidArgument', "'Days' in a transition must not be negative");
  const date = expirationDate(o.Date);
  if ((days === undefined) === (date === undefined)) throw new S3Error('MalformedXML');
  return days !== undefined ? { days, storageClass } : { date, storageClass };
}

function parseNoncurrentTransition(v: unknown): NonNullable<LifecycleRule['noncurrentTransitions']>[number] {
  const o = container(v);
  only(o, ['NoncurrentDays', 'NewerNoncurrentVersions', 'StorageClass']);
  const storageClass = transitionClass(o.StorageClass);
  const days = integer(o.NoncurrentDays);
  if (days === undefined) throw new S3Error('MalformedXML');
  if (days < 0) throw new S3Error('InvalidArgument', "'NoncurrentDays' in a transition must not be negative");
  const newer = integer(o.NewerNoncurrentVersions);
  if (newer !== undefined && (newer < 1 || newer > 100))
    throw new S3Error('InvalidArgument', "'NewerNoncurrentVersions' must be an integer between 1 and 100");
  return newer === undefined ? { days, storageClass } : { days, newerVersions: newer, storageClass };
}

/** The storage classes the rules move versions to (each must be a configured tier). */
export function transitionClasses(c: LifecycleConfiguration): Set<string> {
  const out = new Set<string>();
  for (const r of c.rules) {
    for (const t of r.transitions ?? []) out.add(t.storageClass);
    for (const t of r.noncurrentTransitions ?? []) out.add(t.storageClass);
  }
  return out;
}

function generatedId(): string {
  // AWS gives a rule without ID a random one (48 characters of base64); so does Cairn, so GET shows an ID.
  return randomBytes(36).toString('base64');
}

function parseRule(v: unknown): LifecycleRule {
  const o = container(v);
  for (const k of Object.keys(o)) {
    if (k === 'DelMarkerExpiration')
      throw new S3Error('NotImplemented', 'DelMarkerExpiration (a MinIO extension) is not implemented');
    if (!RULE_ELEMENTS.has(k)) throw new S3Error('MalformedXML');
    if (Array.isArray(o[k]) && k !== 'Transition' && k !== 'NoncurrentVersionTransition')
      throw new S3Error('MalformedXML');
  }
  const id = str(o.ID) ?? '';
  if (id.length > MAX_ID) throw new S3Error('InvalidArgument', 'ID length should not exceed allowed limit of 255');
  const status = str(o.Status);
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  // The legacy top-level Prefix or a Filter: one of them, not both.
  if ((o.Prefix === undefined) === (o.Filter === undefined)) throw new S3Error('MalformedXML');
  const { filter, form } =
    o.Filter !== undefined
      ? parseFilter(o.Filter)
      : { filter: { prefix: prefixOf(o.Prefix), tags: [] }, form: 'legacy-prefix' as const };
  const rule: LifecycleRule = { id: id || generatedId(), enabled: status === 'Enabled', filter, form };
  if (o.Expiration !== undefined) rule.expiration = parseExpiration(o.Expiration);
  if (o.NoncurrentVersionExpiration !== undefined)
    rule.noncurrentExpiration = parseNoncurrentExpiration(o.NoncurrentVersionExpiration);
  if (o.AbortIncompleteMultipartUpload !== undefined) {
    const abort = container(o.AbortIncompleteMultipartUpload);
    only(abort, ['DaysAfterInitiation']);
    rule.abortMultipartDays = positiveDays(abort.DaysAfterInitiation, 'DaysAfterInitiation');
    if (rule.abortMultipartDays === undefined) throw new S3Error('MalformedXML');
    // An upload has no tags or size yet: such a filter could never be applied to it.
    if (filter.tags.length > 0)
      throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
    if (filter.sizeGreaterThan !== undefined || filter.sizeLessThan !== undefined)
      throw new S3Error(
        'InvalidRequest',
        'AbortIncompleteMultipartUpload cannot be specified with an object size filter.',
      );
  }
  if (rule.expiration?.expiredObjectDeleteMarker !== undefined && filter.tags.length > 0)
    throw new S3Error('InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with Tags.');
  const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  if (o.Transition !== undefined) rule.transitions = list(o.Transition).map(parseTransition);
  if (o.NoncurrentVersionTransition !== undefined)
    rule.noncurrentTransitions = list(o.NoncurrentVersionTransition).map(parseNoncurrentTransition);
  const transitions = rule.transitions ?? [];
  // Days and Dates do not mix in one rule's transitions, and no two go to one class (AWS's rules).
  if (transitions.some((t) => t.days !== undefined) && transitions.some((t) => t.date !== undefined))
    throw new S3Error('InvalidRequest', 'Found mixed Date and Days based Transition actions in lifecycle rule');
  for (const group of [transitions, rule.noncurrentTransitions ?? []] as { storageClass: string }[][]) {
    if (new Set(group.map((t) => t.storageClass)).size !== group.length)
      throw new S3Error('InvalidRequest', "'StorageClass' must be different for transition actions in the same rule");
  }
  if (
    !rule.expiration &&
    !rule.noncurrentExpiration &&
    rule.abortMultipartDays === undefined &&
    !rule.transitions &&
    !rule.noncurrentTransitions
  )
    throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  return rule;
}

/**
 * Parses and validates a LifecycleConfiguration document: MalformedXML for what the schema refuses,
 * InvalidArgument / InvalidRequest where AWS answers those.
 */
export function parseLifecycleConfiguration(xml: string): LifecycleConfiguration {
  const doc = parseXml(xml, 'LifecycleConfiguration');
  only(doc, ['Rule']);
  const raw = doc.Rule === undefined ? [] : Array.isArray(doc.Rule) ? doc.Rule : [doc.Rule];
  if (raw.length === 0) throw new S3Error('MalformedXML');
  if (raw.length > MAX_RULES)
    throw new S3Error('InvalidRequest', `A lifecycle configuration may hold at most ${MAX_RULES} rules`);
  const rules = raw.map(parseRule);
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id))
      throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule', {
        ArgumentName: 'ID',
        ArgumentValue: r.id,
      });
    ids.add(r.id);
  }
  return { rules };
}

/** A rule's filter as written back, in the form it was given (replication rules share it: api/replication). */
export function filterXml(r: Pick<LifecycleRule, 'filter' | 'form'>): { [k: string]: XmlValue } {
  const f = r.filter;
  const tagXml = (t: LifecycleTag) => ({ Key: t.key, Value: t.value });
  switch (r.form) {
    case 'legacy-prefix':
      return { Prefix: f.prefix };
    case 'empty':
      return { Filter: {} };
    case 'prefix':
      return { Filter: { Prefix: f.prefix } };
    case 'tag':
      return { Filter: { Tag: tagXml(f.tags[0]) } };
    case 'size-gt':
      return { Filter: { ObjectSizeGreaterThan: f.sizeGreaterThan } };
    case 'size-lt':
      return { Filter: { ObjectSizeLessThan: f.sizeLessThan } };
    case 'and':
      return {
        Filter: {
          And: {
            // Always written: a prefix counts as one of And's two or more predicates when the document is read back.
            Prefix: f.prefix,
            Tag: f.tags.map(tagXml),
            ObjectSizeGreaterThan: f.sizeGreaterThan,
            ObjectSizeLessThan: f.sizeLessThan,
          },
        },
      };
  }
}

/** The canonical document: what is stored and what GetBucketLifecycleConfiguration answers. */
export function lifecycleXml(c: LifecycleConfiguration): string {
  return toXml('LifecycleConfiguration', {
    Rule: c.rules.map((r) => {
      const e = r.expiration;
      return {
        ID: r.id,
        ...filterXml(r),
        Status: r.enabled ? 'Enabled' : 'Disabled',
        Expiration: e
          ? { Days: e.days, Date: e.date, ExpiredObjectDeleteMarker: e.expiredObjectDeleteMarker }
          : undefined,
        NoncurrentVersionExpiration: r.noncurrentExpiration
          ? {
              NoncurrentDays: r.noncurrentExpiration.days,
              NewerNoncurrentVersions: r.noncurrentExpiration.newerVersions,
            }
          : undefined,
        Transition: r.transitions?.map((t) => ({ Days: t.days, Date: t.date, StorageClass: t.storageClass })),
        NoncurrentVersionTransition: r.noncurrentTransitions?.map((t) => ({
          NoncurrentDays: t.days,
          NewerNoncurrentVersions: t.newerVersions,
          StorageClass: t.storageClass,
        })),
        AbortIncompleteMultipartUpload:
          r.abortMultipartDays !== undefined ? { DaysAfterInitiation: r.abortMultipartDays } : undefined,
      };
    }),
  });
}
