// What lifecycle rules say about objects, as pure functions of the rules, the versions and the time: which
// objects a rule names, when an action falls due, the x-amz-expiration answer, and what to do with one key's
// versions. The scanner (scanner.ts) lists and acts; this file decides.
//
// Time: a day is 86,400 s and, as AWS does, a due time is rounded up to the next midnight UTC (an object made
// 2014-01-15 10:30 with Days=3 expires 2014-01-19 00:00). With the test clock (CAIRN_LIFECYCLE_DAY_SECONDS=N)
// a day lasts N seconds and nothing is rounded, so Days=1 is due N seconds after the object was written.
import type { MultipartUploadInfo, ObjectInfo } from '../../storage/object-layer.js';
import type { LifecycleConfiguration, LifecycleRule } from './config.js';

const DAY_MS = 86_400_000;

/** The time `days` lifecycle days after `start` (ms). `testDayMs`: the test clock's day, no rounding. */
export function dueAfter(start: number, days: number, testDayMs?: number): number {
  if (testDayMs !== undefined) return start + days * testDayMs;
  return Math.floor((start + (days + 1) * DAY_MS) / DAY_MS) * DAY_MS;
}

/** The object's tags as a map (x-amz-tagging form), parsed once per version looked at. */
function tagMap(info: ObjectInfo): Map<string, string> {
  return new Map(info.tagging ? new URLSearchParams(info.tagging) : []);
}

/**
 * Does the rule name this version? Prefix, every tag of the filter, and the size bounds. A delete marker has
 * no tags and no size: tag filters never name one, size filters do not exclude one.
 */
export function ruleMatches(rule: LifecycleRule, info: ObjectInfo, tags = tagMap(info)): boolean {
  const f = rule.filter;
  if (!rule.enabled || !info.key.startsWith(f.prefix)) return false;
  for (const t of f.tags) if (tags.get(t.key) !== t.value) return false;
  if (info.deleteMarker) return true;
  if (f.sizeGreaterThan !== undefined && !(info.size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(info.size < f.sizeLessThan)) return false;
  return true;
}

/** When an Expiration rule (Days or Date) expires this current version: the earliest, and which rule. */
export function currentExpiry(
  config: LifecycleConfiguration | undefined,
  info: ObjectInfo,
  testDayMs?: number,
): { due: number; ruleId: string } | undefined {
  if (!config || info.deleteMarker) return undefined;
  const tags = tagMap(info);
  let best: { due: number; ruleId: string } | undefined;
  for (const r of config.rules) {
    const e = r.expiration;
    if (!e || (e.days === undefined && e.date === undefined) || !ruleMatches(r, info, tags)) continue;
    const due = e.days !== undefined ? dueAfter(info.lastModified.getTime(), e.days, testDayMs) : e.date!.getTime();
    if (!best || due < best.due) best = { due, ruleId: r.id };
  }
  return best;
}

/**
 * When a NoncurrentVersionExpiration rule removes this noncurrent version, as the scanner (KeyPlanner) judges
 * it: `newer` are the key's versions newer than it, newest first (the current one first). Its noncurrent days
 * count from its successor's time; a rule keeping NewerNoncurrentVersions names it only when more noncurrent
 * versions than that are newer (a version kept by the count has no date yet). The earliest rule wins.
 */
export function noncurrentExpiry(
  config: LifecycleConfiguration | undefined,
  info: ObjectInfo,
  newer: ObjectInfo[],
  testDayMs?: number,
): { due: number; ruleId: string } | undefined {
  const successor = newer.at(-1);
  if (!config || info.isLatest || info.deleteMarker || !successor || !newer[0].isLatest) return undefined;
  const tags = tagMap(info);
  let best: { due: number; ruleId: string } | undefined;
  for (const r of config.rules) {
    const n = r.noncurrentExpiration;
    if (!n || !ruleMatches(r, info, tags)) continue;
    const rank = 1 + newer.slice(1).filter((v) => ruleMatches(r, v)).length;
    if (rank <= (n.newerVersions ?? 0)) continue;
    const due = dueAfter(successor.lastModified.getTime(), n.days, testDayMs);
    if (!best || due < best.due) best = { due, ruleId: r.id };
  }
  return best;
}

/** What the scanner does with one key's versions (newest first, as listed), judged at `now`. */
export interface KeyPlan {
  /** The current version, to be expired (unversioned: deleted; versioned: a delete marker added). */
  expireCurrent?: ObjectInfo;
  /** Noncurrent versions (delete markers included) whose NoncurrentVersionExpiration is due. */
  removeNoncurrent: ObjectInfo[];
  /** The current delete marker, when it is the only version left once `removeNoncurrent` are gone. */
  removeLoneMarker?: ObjectInfo;
  /** Versions (current or not) to move to a remote tier, and which. */
  transition: { version: ObjectInfo; storageClass: string; current: boolean }[];
}

/**
 * The tier a due transition moves this version to: of the transitions due at `now` among the rules
 * naming it, the one due last (a later transition supersedes an earlier one). `since`: when the version
 * became noncurrent (undefined for the current version).
 */
function dueTransition(
  config: LifecycleConfiguration,
  info: ObjectInfo,
  tags: Map<string, string>,
  now: number,
  since: number | undefined,
  rank: (r: LifecycleConfiguration['rules'][number]) => number,
  testDayMs?: number,
): string | undefined {
  if (info.deleteMarker) return undefined;
  let best: { due: number; storageClass: string } | undefined;
  for (const r of config.rules) {
    if (!ruleMatches(r, info, tags)) continue;
    const due =
      since === undefined
        ? (r.transitions ?? []).map((t) => ({
            due: t.days !== undefined ? dueAfter(info.lastModified.getTime(), t.days, testDayMs) : t.date!.getTime(),
            storageClass: t.storageClass,
          }))
        : (r.noncurrentTransitions ?? [])
            .filter((t) => rank(r) > (t.newerVersions ?? 0))
            .map((t) => ({ due: dueAfter(since, t.days, testDayMs), storageClass: t.storageClass }));
    for (const d of due) if (d.due <= now && (!best || d.due > best.due)) best = d;
  }
  // Already there: nothing to move (a version in another tier moves on to this one).
  return best?.storageClass === info.transition?.tier ? undefined : best?.storageClass;
}

/**
 * planKey given a key's versions a few at a time (newest first, as listed), so that a key with any number of
 * versions is judged without holding them all. `more` judges the versions given, each by the versions listed
 * before it only (its rank among the noncurrent versions each rule names, and when its successor replaced
 * it): the noncurrent versions due for removal, and those staying that are due for a transition; `finish`
 * judges the current version once every version was given.
 */
export class KeyPlanner {
  private current: ObjectInfo | undefined;
  /** The last version given: its successor's noncurrent days count from its time. */
  private previous: ObjectInfo | undefined;
  /** Per rule, the noncurrent versions it named so far (NewerNoncurrentVersions keeps the first ones). */
  private readonly ranks: Map<LifecycleConfiguration['rules'][number], number>;
  private seen = 0;
  private removing = 0;

  constructor(
    private readonly config: LifecycleConfiguration,
    private readonly now: number,
    private readonly testDayMs?: number,
  ) {
    this.ranks = new Map(config.rules.map((r) => [r, 0]));
  }

  more(versions: ObjectInfo[]): Pick<KeyPlan, 'removeNoncurrent' | 'transition'> {
    const out: Pick<KeyPlan, 'removeNoncurrent' | 'transition'> = { removeNoncurrent: [], transition: [] };
    for (const v of versions) {
      const previous = this.previous;
      this.previous = v;
      if (this.seen++ === 0) this.current = v;
      if (!previous || !this.current?.isLatest) continue;
      const tags = tagMap(v);
      const since = previous.lastModified.getTime();
      let remove = false;
      for (const r of this.config.rules) {
        if (!ruleMatches(r, v, tags)) continue;
        const rank = this.ranks.get(r)! + 1;
        this.ranks.set(r, rank);
        const n = r.noncurrentExpiration;
        if (n && rank > (n.newerVersions ?? 0) && this.now >= dueAfter(since, n.days, this.testDayMs)) remove = true;
      }
      if (remove) {
        out.removeNoncurrent.push(v);
        continue;
      }
      // Staying: moved when a NoncurrentVersionTransition is due.
      const rank = (r: LifecycleConfiguration['rules'][number]) => this.ranks.get(r) ?? 0;
      const to = dueTransition(this.config, v, tags, this.now, since, rank, this.testDayMs);
      if (to) out.transition.push({ version: v, storageClass: to, current: false });
    }
    this.removing += out.removeNoncurrent.length;
    return out;
  }

  /** Once every version was given: the current version to expire or move, or the lone delete marker to remove. */
  finish(): Omit<KeyPlan, 'removeNoncurrent'> {
    const current = this.current;
    if (!current?.isLatest) return { transition: [] };
    const tags = tagMap(current);
    if (!current.deleteMarker) {
      const expiry = currentExpiry(this.config, current, this.testDayMs);
      if (expiry && this.now >= expiry.due) return { expireCurrent: current, transition: [] };
      const to = dueTransition(this.config, current, tags, this.now, undefined, () => 0, this.testDayMs);
      return { transition: to ? [{ version: current, storageClass: to, current: true }] : [] };
    }
    // An expired object delete marker (the only version left) goes with ExpiredObjectDeleteMarker, or with an
    // Expiration by Days or Date once it is that old (AWS cleans such markers up with the current versions).
    if (this.seen - this.removing !== 1) return { transition: [] };
    for (const r of this.config.rules) {
      const e = r.expiration;
      if (!e || !ruleMatches(r, current, tags)) continue;
      const due =
        e.expiredObjectDeleteMarker === true
          ? 0
          : e.days !== undefined
            ? dueAfter(current.lastModified.getTime(), e.days, this.testDayMs)
            : e.date !== undefined
              ? e.date.getTime()
              : Number.POSITIVE_INFINITY;
      if (this.now >= due) return { removeLoneMarker: current, transition: [] };
    }
    return { transition: [] };
  }
}

/** What the scanner does with one key's versions, all given at once (KeyPlanner, for a few at a time). */
export function planKey(
  config: LifecycleConfiguration,
  versions: ObjectInfo[],
  now: number,
  testDayMs?: number,
): KeyPlan {
  const planner = new KeyPlanner(config, now, testDayMs);
  const some = planner.more(versions);
  const last = planner.finish();
  return { ...last, removeNoncurrent: some.removeNoncurrent, transition: [...some.transition, ...last.transition] };
}

/** Is this unfinished upload due for AbortIncompleteMultipartUpload? */
export function uploadDue(
  config: LifecycleConfiguration,
  upload: MultipartUploadInfo,
  now: number,
  testDayMs?: number,
): boolean {
  return config.rules.some(
    (r) =>
      r.enabled &&
      r.abortMultipartDays !== undefined &&
      upload.key.startsWith(r.filter.prefix) &&
      now >= dueAfter(upload.initiated.getTime(), r.abortMultipartDays, testDayMs),
  );
}

/**
 * The key prefixes to list so that every object some enabled rule may name is seen once: the rules'
 * prefixes without those inside another ('' when a rule names every key).
 */
export function scanPrefixes(config: LifecycleConfiguration): string[] {
  const prefixes = [...new Set(config.rules.filter((r) => r.enabled).map((r) => r.filter.prefix))].sort();
  const out: string[] = [];
  for (const p of prefixes) if (!out.some((q) => p.startsWith(q))) out.push(p);
  return out;
}
