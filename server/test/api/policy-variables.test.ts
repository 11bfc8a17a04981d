// Policy variables in resources (policy-variables.ts compileTemplate): the matcher compares a template's head
// (up to its first wildcard) piece by piece and matches only the rest as a pattern. Seeded random templates
// (literals, `*`, `?`, variables with and without defaults, `${*}`-style literals, surrogate pairs) against
// random texts and contexts must give what the definition gives: fill every variable in as literal text
// (an absent key without a default matches nothing), then match the whole glob.
import { ANY, compileWildcard, ONE, type WildcardPart } from '@cairn/select-engine/wildcard';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/helpers/random.js';
import type { ConditionContext } from '../../src/api/policy-conditions.js';
import { compileTemplate, parseTemplate } from '../../src/api/policy-variables.js';

/** The definition: every variable filled in as literal text, then one glob over the whole text. */
function reference(pattern: string, text: string, ctx: ConditionContext): boolean {
  const parts: WildcardPart[] = [];
  for (const p of parseTemplate(pattern, true).parts) {
    if (typeof p === 'string' || p === ANY || p === ONE) parts.push(p);
    else {
      const v = ctx[p.key];
      const value = (typeof v === 'string' ? v : undefined) ?? p.fallback;
      if (value === undefined) return false;
      parts.push(value);
    }
  }
  return compileWildcard(parts)(text);
}

describe('policy variables in resources', () => {
  it('the split matcher agrees with filling in and matching the whole glob (seeded)', () => {
    const random = seededRandom();
    console.log(`policy variables seed: ${random.seed} (CAIRN_TEST_SEED=${random.seed} replays it)`);
    const r = random.next;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const word = (chars: string, max: number) =>
      Array.from({ length: Math.floor(r() * max) }, () => pick([...chars])).join('');
    const variables = [
      '${aws:username}',
      '${aws:userid}',
      "${aws:username, 'a'}",
      "${s3:prefix,'ab/'}",
      '${*}',
      '${?}',
      '${$}',
    ];
    const piece = () => (r() < 0.3 ? pick(variables) : word('ab/😀*?', 3));
    const value = () => (r() < 0.2 ? undefined : r() < 0.1 ? ['a', 'b'] : word('ab/😀*?', 4));
    /** A text the template may match: values put in (a random word for an absent key), wildcards filled. */
    const fill = (pattern: string, ctx: ConditionContext) =>
      parseTemplate(pattern, true)
        .parts.map((p) => {
          if (p === ANY) return word('ab/😀', 3);
          if (p === ONE) return pick([...'ab/😀']);
          if (typeof p === 'string') return p;
          const v = ctx[p.key];
          return (typeof v === 'string' ? v : undefined) ?? p.fallback ?? word('ab', 2);
        })
        .join('');
    let matched = 0;
    for (let round = 0; round < 1500; round++) {
      const pattern = Array.from({ length: 1 + Math.floor(r() * 5) }, piece).join('');
      const m = compileTemplate(pattern, true);
      for (let i = 0; i < 8; i++) {
        const ctx: ConditionContext = {
          'aws:username': value(),
          'aws:userid': value(),
          's3:prefix': value(),
        };
        // Half the texts are the template filled in (wildcards by random text), so that matches are common.
        const text = r() < 0.5 ? fill(pattern, ctx) : word('ab/😀*?', 10);
        const got = m(text, () => ctx);
        const want = reference(pattern, text, ctx);
        expect(got, `seed ${random.seed}: ${JSON.stringify({ pattern, text, ctx })}`).toBe(want);
        if (want) matched++;
      }
    }
    expect(matched).toBeGreaterThan(1500);
  });
});
