// What lifecycle rules decide, as pure functions (api/lifecycle/rules.ts): AWS's due times rounded to the next
// midnight UTC and the test clock's unrounded ones, which versions a filter names, and what the scanner does
// with one key's versions: noncurrent age counted from the successor's write, NewerNoncurrentVersions kept,
// a delete marker removed only when it is the only version left.
import { describe, expect, it } from 'vitest';
import { parseLifecycleConfiguration, type LifecycleConfiguration } from '../../src/api/lifecycle/config.js';
import {
  currentExpiry,
  dueAfter,
  KeyPlanner,
  planKey,
  ruleMatches,
  scanPrefixes,
  type KeyPlan,
} from '../../src/api/lifecycle/rules.js';
import type { ObjectInfo } from '../../src/storage/object-layer.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2014, 0, 15, 10, 30);

function version(o: Partial<ObjectInfo> & { at: number }): ObjectInfo {
  return {
    bucket: 'b',
    key: 'k',
    versionId: `v${o.at}`,
    isLatest: false,
    deleteMarker: false,
    size: 10,
    etag: 'e',
    lastModified: new Date(o.at),
    storageClass: 'STANDARD',
    contentHeaders: {},
    userMetadata: {},
    ...o,
  };
}

const config = (rules: string): LifecycleConfiguration =>
  parseLifecycleConfiguration(`<LifecycleConfiguration>${rules}</LifecycleConfiguration>`);
const rule = (filter: string, action: string, id = 'r') =>
  `<Rule><ID>${id}</ID>${filter}<Status>Enabled</Status>${action}</Rule>`;

describe('due times', () => {
  it("AWS's example: created 2014-01-15 10:30 UTC, Days=3: due 2014-01-19 00:00 UTC", () => {
    expect(new Date(dueAfter(T0, 3)).toISOString()).toBe('2014-01-19T00:00:00.000Z');
    // Written at midnight exactly: still the midnight after the full days.
    expect(new Date(dueAfter(Date.UTC(2014, 0, 15), 1)).toISOString()).toBe('2014-01-17T00:00:00.000Z');
  });

  it('the test clock is not rounded: Days=2 with 1 s days is 2 s after the write', () => {
    expect(dueAfter(T0, 2, 1000)).toBe(T0 + 2000);
  });
});

describe('filters', () => {
  const c = config(
    rule(
      '<Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag>' +
        '<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter>',
      '<Expiration><Days>1</Days></Expiration>',
    ),
  );
  const r = c.rules[0];
  const v = (o: Partial<ObjectInfo>) => version({ at: T0, key: 'p/x', size: 50, tagging: 'a=1&b=2', ...o });

  it('names a version only when prefix, every tag and both size bounds hold', () => {
    expect(ruleMatches(r, v({}))).toBe(true);
    expect(ruleMatches(r, v({ key: 'q/x' }))).toBe(false);
    expect(ruleMatches(r, v({ tagging: 'a=2' }))).toBe(false);
    expect(ruleMatches(r, v({ tagging: undefined }))).toBe(false);
    expect(ruleMatches(r, v({ size: 10 }))).toBe(false); // greater than, not equal
    expect(ruleMatches(r, v({ size: 100 }))).toBe(false);
    expect(ruleMatches(r, v({ size: 11 }))).toBe(true);
  });

  it('a disabled rule names nothing; the prefixes to list leave out those inside another', () => {
    const off = config(
      rule('<Prefix></Prefix>', '<Expiration><Days>1</Days></Expiration>').replace('Enabled', 'Disabled'),
    );
    expect(ruleMatches(off.rules[0], v({}))).toBe(false);
    const many = config(
      rule('<Filter><Prefix>a/b/</Prefix></Filter>', '<Expiration><Days>1</Days></Expiration>', '1') +
        rule('<Filter><Prefix>a/</Prefix></Filter>', '<Expiration><Days>1</Days></Expiration>', '2') +
        rule('<Filter><Prefix>c</Prefix></Filter>', '<Expiration><Days>1</Days></Expiration>', '3'),
    );
    expect(scanPrefixes(many)).toEqual(['a/', 'c']);
    expect(scanPrefixes(config(rule('<Filter/>', '<Expiration><Days>1</Days></Expiration>')))).toEqual(['']);
  });

  it('the earliest of several Expiration rules is the answer', () => {
    const c2 = config(
      rule('<Filter><Prefix>p/</Prefix></Filter>', '<Expiration><Days>5</Days></Expiration>', 'five') +
        rule('<Filter><Prefix></Prefix></Filter>', '<Expiration><Days>2</Days></Expiration>', 'two') +
        rule('<Filter><Prefix>q/</Prefix></Filter>', '<Expiration><Days>1</Days></Expiration>', 'other'),
    );
    expect(currentExpiry(c2, v({ isLatest: true }))).toEqual({ due: dueAfter(T0, 2), ruleId: 'two' });
    expect(currentExpiry(c2, v({ isLatest: true, deleteMarker: true }))).toBeUndefined();
  });
});

describe('planKey', () => {
  const noncurrent = (days: number, newer?: number) =>
    config(
      rule(
        '<Filter/>',
        `<NoncurrentVersionExpiration><NoncurrentDays>${days}</NoncurrentDays>${
          newer ? `<NewerNoncurrentVersions>${newer}</NewerNoncurrentVersions>` : ''
        }</NoncurrentVersionExpiration>`,
      ),
    );

  it("counts a noncurrent version's age from the write of the version that replaced it", () => {
    // v1 written at T0 (old), replaced only at T0 + 10 days.
    const versions = [version({ at: T0 + 10 * DAY, isLatest: true }), version({ at: T0 })];
    const c = noncurrent(3);
    expect(planKey(c, versions, dueAfter(T0 + 10 * DAY, 3) - 1).removeNoncurrent).toEqual([]);
    expect(planKey(c, versions, dueAfter(T0 + 10 * DAY, 3)).removeNoncurrent).toEqual([versions[1]]);
  });

  it('keeps the NewerNoncurrentVersions newest noncurrent versions', () => {
    const versions = [5, 4, 3, 2, 1].map((i) => version({ at: T0 + i * 1000, isLatest: i === 5 }));
    const plan = planKey(noncurrent(1, 2), versions, T0 + 30 * DAY);
    expect(plan.removeNoncurrent.map((v) => v.versionId)).toEqual([versions[3].versionId, versions[4].versionId]);
    expect(plan.expireCurrent).toBeUndefined();
  });

  it('expires the current version when due; a delete marker current with older versions is left alone', () => {
    const c = config(rule('<Filter/>', '<Expiration><Days>1</Days></Expiration>'));
    const obj = [version({ at: T0, isLatest: true })];
    expect(planKey(c, obj, dueAfter(T0, 1) - 1).expireCurrent).toBeUndefined();
    expect(planKey(c, obj, dueAfter(T0, 1)).expireCurrent).toBe(obj[0]);
    const marked = [version({ at: T0 + 1, isLatest: true, deleteMarker: true }), version({ at: T0 })];
    expect(planKey(c, marked, T0 + 100 * DAY)).toEqual({ removeNoncurrent: [], transition: [] });
    // Alone, an Expiration by Days removes it once it is that old.
    expect(planKey(c, marked.slice(0, 1), dueAfter(T0 + 1, 1) - 1).removeLoneMarker).toBeUndefined();
    expect(planKey(c, marked.slice(0, 1), dueAfter(T0 + 1, 1)).removeLoneMarker).toBe(marked[0]);
  });

  it('ExpiredObjectDeleteMarker removes a marker once nothing else is left, in the same pass', () => {
    const c = config(
      rule(
        '<Filter/>',
        '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>' +
          '<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>',
      ),
    );
    const marked = [version({ at: T0 + 1, isLatest: true, deleteMarker: true }), version({ at: T0 })];
    expect(planKey(c, marked, T0 + 2)).toEqual({ removeNoncurrent: [], transition: [] });
    const later = planKey(c, marked, dueAfter(T0 + 1, 1));
    expect(later.removeNoncurrent).toEqual([marked[1]]);
    expect(later.removeLoneMarker).toBe(marked[0]);
  });
});

describe('transitions', () => {
  const tiers = (a: string) => config(rule('<Filter/>', a));
  const move = (plan: ReturnType<typeof planKey>) =>
    plan.transition.map((t) => `${t.version.versionId}->${t.storageClass}${t.current ? ' (current)' : ''}`);

  it('moves the current version once due, to the tier of the transition due last', () => {
    const c = tiers(
      '<Transition><Days>1</Days><StorageClass>WARM</StorageClass></Transition>' +
        '<Transition><Days>5</Days><StorageClass>COLD</StorageClass></Transition>',
    );
    const obj = [version({ at: T0, isLatest: true })];
    expect(move(planKey(c, obj, dueAfter(T0, 1) - 1))).toEqual([]);
    expect(move(planKey(c, obj, dueAfter(T0, 1)))).toEqual([`v${T0}->WARM (current)`]);
    expect(move(planKey(c, obj, dueAfter(T0, 5)))).toEqual([`v${T0}->COLD (current)`]);
    // A version already in the tier stays; one in the earlier tier moves on; a delete marker has nothing to move.
    const moved = [version({ at: T0, isLatest: true, transition: { tier: 'WARM', key: 'x' } })];
    expect(move(planKey(c, moved, dueAfter(T0, 1)))).toEqual([]);
    expect(move(planKey(c, moved, dueAfter(T0, 5)))).toEqual([`v${T0}->COLD (current)`]);
    expect(move(planKey(c, [version({ at: T0, isLatest: true, deleteMarker: true })], dueAfter(T0, 5)))).toEqual([]);
  });

  it('an expiration due at the same time wins over a transition', () => {
    const c = tiers(
      '<Expiration><Days>1</Days></Expiration><Transition><Days>1</Days><StorageClass>WARM</StorageClass></Transition>',
    );
    const plan = planKey(c, [version({ at: T0, isLatest: true })], dueAfter(T0, 1));
    expect(plan.expireCurrent).toBeDefined();
    expect(plan.transition).toEqual([]);
  });

  it('moves noncurrent versions by the age since they were replaced, keeping NewerNoncurrentVersions local', () => {
    const c = tiers(
      '<NoncurrentVersionTransition><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>1' +
        '</NewerNoncurrentVersions><StorageClass>WARM</StorageClass></NoncurrentVersionTransition>',
    );
    const versions = [3, 2, 1].map((i) => version({ at: T0 + i * DAY, isLatest: i === 3 }));
    // The oldest was replaced at T0 + 2 days; the middle one is the one newer noncurrent version kept.
    expect(move(planKey(c, versions, dueAfter(T0 + 2 * DAY, 2) - 1))).toEqual([]);
    expect(move(planKey(c, versions, dueAfter(T0 + 2 * DAY, 2)))).toEqual([`v${T0 + DAY}->WARM`]);
    expect(move(planKey(c, versions, T0 + 100 * DAY))).toEqual([`v${T0 + DAY}->WARM`]);
  });
});

describe('KeyPlanner', () => {
  // The scanner gives a key's versions as they are listed, a page at a time: the decisions are the same as
  // with every version at once, whatever the cut.
  it('judges versions given a few at a time as planKey judges them all at once', () => {
    const c = config(
      rule(
        '<Filter><Prefix>k</Prefix></Filter>',
        '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>' +
          '<NoncurrentVersionExpiration><NoncurrentDays>20</NoncurrentDays>' +
          '<NewerNoncurrentVersions>7</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
        'a',
      ) +
        rule(
          '<Filter/>',
          '<NoncurrentVersionExpiration><NoncurrentDays>40</NoncurrentDays></NoncurrentVersionExpiration>',
          'b',
        ) +
        rule(
          '<Filter><Prefix>k</Prefix></Filter>',
          '<NoncurrentVersionTransition><NoncurrentDays>10</NoncurrentDays><StorageClass>WARM</StorageClass>' +
            '<NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionTransition>',
          'c',
        ),
    );
    // 250 versions a day apart, newest first, every fifth a delete marker; the newest a marker too.
    const versions = Array.from({ length: 250 }, (_, i) =>
      version({ at: T0 + (250 - i) * DAY, isLatest: i === 0, deleteMarker: i % 5 === 0, versionId: `v${i}` }),
    );
    for (const now of [T0, T0 + 100 * DAY, T0 + 300 * DAY]) {
      for (const cut of [1, 7, 100, 250]) {
        const planner = new KeyPlanner(c, now);
        const removed: ObjectInfo[] = [];
        const moved: KeyPlan['transition'] = [];
        for (let i = 0; i < versions.length; i += cut) {
          const due = planner.more(versions.slice(i, i + cut));
          removed.push(...due.removeNoncurrent);
          moved.push(...due.transition);
        }
        const last = planner.finish();
        const all = planKey(c, versions, now);
        expect({ ...last, removeNoncurrent: removed, transition: [...moved, ...last.transition] }).toEqual(all);
      }
    }
    // Some noncurrent versions are moved, not removed, while younger; at the end every one is due for removal
    // and the lone marker goes after them.
    expect(planKey(c, versions, T0 + 100 * DAY).transition.length).toBeGreaterThan(0);
    expect(planKey(c, versions, T0 + 300 * DAY)).toMatchObject({ transition: [], removeLoneMarker: versions[0] });
    expect(planKey(c, versions, T0 + 300 * DAY).removeNoncurrent).toHaveLength(249);
  });
});
