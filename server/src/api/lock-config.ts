// A bucket's ObjectLockConfiguration (S3 Object Lock): enabled, with an optional default retention that new
// versions get. Parsed and validated here; stored as the canonical document (BucketConfig.objectLock) and
// parsed once per change by bucket-settings.ts. The rules the lock imposes are in object-lock.ts.
import { S3Error } from '../errors.js';
import type { RetentionMode } from '../storage/object-layer.js';
import { parseXml, str, toXml } from './xml.js';

export interface DefaultRetention {
  mode: RetentionMode;
  days?: number;
  years?: number;
}

/** A bucket's ObjectLockConfiguration: enabled, with an optional default retention for new versions. */
export interface LockConfiguration {
  rule?: DefaultRetention;
}

export const MODES = new Set<string>(['GOVERNANCE', 'COMPLIANCE']);
const DAY_MS = 86_400_000;
/** AWS's bounds on a default retention period. */
const MAX_DAYS = 36_500;
const MAX_YEARS = 100;
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 date and time with a zone (a retain-until date), or undefined. */
export function parseRetainUntil(s: string): Date | undefined {
  const t = s.trim();
  if (!ISO_DATE.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function retentionPeriod(v: unknown, max: number): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (!/^-?\d{1,10}$/.test(s.trim())) throw new S3Error('MalformedXML');
  const n = Number(s.trim());
  if (n <= 0 || n > max) throw new S3Error('InvalidRetentionPeriod');
  return n;
}

/** Parses and validates an ObjectLockConfiguration document (MalformedXML, InvalidRetentionPeriod). */
export function parseLockConfiguration(xml: string): LockConfiguration {
  const doc = parseXml(xml, 'ObjectLockConfiguration');
  if (str(doc.ObjectLockEnabled) !== 'Enabled') throw new S3Error('MalformedXML');
  if (doc.Rule === undefined) return {};
  const rule = doc.Rule as Record<string, unknown>;
  const d = (typeof rule === 'object' && rule !== null ? rule.DefaultRetention : undefined) as
    | Record<string, unknown>
    | undefined;
  if (typeof d !== 'object' || d === null) throw new S3Error('MalformedXML');
  const mode = str(d.Mode);
  if (mode === undefined || !MODES.has(mode)) throw new S3Error('MalformedXML');
  if (d.Days !== undefined && d.Years !== undefined) throw new S3Error('MalformedXML');
  const days = retentionPeriod(d.Days, MAX_DAYS);
  const years = retentionPeriod(d.Years, MAX_YEARS);
  if (days === undefined && years === undefined) throw new S3Error('MalformedXML');
  return { rule: { mode: mode as RetentionMode, days, years } };
}

export function lockConfigurationXml(c: LockConfiguration): string {
  const r = c.rule;
  const rule = r ? { DefaultRetention: { Mode: r.mode, Days: r.days, Years: r.years } } : undefined;
  return toXml('ObjectLockConfiguration', { ObjectLockEnabled: 'Enabled', Rule: rule });
}

/** The date a default retention started now ends on (years are calendar years, as S3 counts them). */
export function defaultRetainUntil(rule: DefaultRetention, now: number): Date {
  if (rule.days !== undefined) return new Date(now + rule.days * DAY_MS);
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() + (rule.years ?? 0));
  return d;
}
