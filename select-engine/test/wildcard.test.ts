// The linear-time wildcard matcher behind LIKE and bucket-policy globs: a table of cases (segments, ONE over
// surrogate pairs, shift-and across 32-bit words), LIKE's ESCAPE, and a seeded fuzz run against a plain
// dynamic-programming matcher (the seed is printed; CAIRN_TEST_SEED replays a run).
import { describe, expect, it } from 'vitest';
import { compileLike } from '../src/exec/like.js';
import { ANY, ONE, compileWildcard, globParts, type CharClass, type WildcardPart } from '../src/wildcard.js';
import { SelectError } from '../src/errors.js';
import { seededRandom } from '../../test/helpers/random.js';

/** Reference: O(text * pattern) dynamic programming over code points, obviously right. */
function reference(parts: readonly WildcardPart[], text: string): boolean {
  const pat: (number | typeof ANY | typeof ONE | CharClass)[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const ch of p) pat.push(ch.codePointAt(0)!);
    else pat.push(p);
  }
  const one = (p: number | typeof ONE | CharClass, c: number) =>
    p === ONE || p === c || (typeof p === 'object' && p.ranges.some(([lo, hi]) => c >= lo && c <= hi) !== p.negate);
  const t = [...text].map((ch) => ch.codePointAt(0)!);
  let row = new Array<boolean>(t.length + 1).fill(false);
  row[0] = true;
  for (const p of pat) {
    const next = new Array<boolean>(t.length + 1).fill(false);
    if (p === ANY) {
      next[0] = row[0];
      for (let j = 1; j <= t.length; j++) next[j] = row[j] || next[j - 1];
    } else {
      for (let j = 1; j <= t.length; j++) next[j] = row[j - 1] && one(p, t[j - 1]);
    }
    row = next;
  }
  return row[t.length];
}

/** Reference LIKE: its own reading of the pattern and ESCAPE, then the reference matcher. */
function referenceLike(pattern: string, escape: string | undefined, text: string): boolean {
  const parts: WildcardPart[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    if (escape !== undefined && chars[i] === escape) parts.push(chars[++i]);
    else parts.push(chars[i] === '%' ? ANY : chars[i] === '_' ? ONE : chars[i]);
  }
  return reference(parts, text);
}

const like = (pattern: string, text: string, escape?: string) => compileLike(pattern, escape)(text);

describe('wildcard matcher', () => {
  it('matches LIKE patterns as SQL defines them', () => {
    const cases: [string, string, boolean][] = [
      ['', '', true],
      ['', 'a', false],
      ['%', '', true],
      ['%', 'anything', true],
      ['%%%', 'x', true],
      ['abc', 'abc', true],
      ['abc', 'abcd', false],
      ['abc', 'ab', false],
      ['a%', 'abc', true],
      ['a%', 'ba', false],
      ['%c', 'abc', true],
      ['%c', 'ca', false],
      ['%b%', 'abc', true],
      ['%b%', 'ac', false],
      ['a%c', 'ac', true],
      ['a%c', 'abbbc', true],
      ['a%c', 'abcb', false],
      // prefix and suffix may not overlap
      ['a%a', 'a', false],
      ['a%a', 'aa', true],
      ['ab%bc', 'abc', false],
      ['ab%bc', 'abbc', true],
      ['_', 'a', true],
      ['_', '', false],
      ['_', 'ab', false],
      ['__', '😀😀', true],
      ['_', '😀', true],
      ['a_c', 'abc', true],
      ['a_c', 'a😀c', true],
      ['a_c', 'ac', false],
      ['%a_b%', 'xxaZbyy', true],
      ['%a_b%', 'xxabyy', false],
      ['%_%', '', false],
      ['%_%', 'z', true],
      ['%a%a%a%a%b', 'a'.repeat(200), false],
      ['%a%a%a%a%b', `${'a'.repeat(200)}b`, true],
      ['_%_', 'ab', true],
      ['_%_', 'a', false],
      ['%😀_', 'x😀y', true],
      ['%😀_', 'x😀', false],
      // greedy leftmost is right: the earliest place for each middle segment never loses a match
      ['%ab%abc%', 'ababcabc', true],
      ['%aab%ab', 'aaabab', true],
      ['%abab%', 'abaabab', true],
      // a middle segment may start right where the previous one ended
      ['%a_%b_%', 'aXbY', true],
      ['%a_%b_%', 'aXb', false],
      ['%ab%cd%', 'abcd', true],
    ];
    for (const [p, t, want] of cases) expect(like(p, t), `'${t}' LIKE '${p}'`).toBe(want);
  });

  it('handles ONE in segments longer than one 32-bit word', () => {
    const seg = `${'a'.repeat(40)}_${'b'.repeat(40)}`;
    expect(like(`%${seg}%`, `zz${'a'.repeat(45)}X${'b'.repeat(40)}zz`)).toBe(true);
    expect(like(`%${seg}%`, `zz${'a'.repeat(45)}X${'b'.repeat(39)}`)).toBe(false);
    expect(like(`${seg}`, `${'a'.repeat(40)}😀${'b'.repeat(40)}`)).toBe(true);
    expect(like(`%${'_a'.repeat(50)}%`, `b${'xa'.repeat(50)}`)).toBe(true);
  });

  it('applies ESCAPE to %, _ and itself, and refuses a dangling or misplaced escape', () => {
    expect(like('50!%', '50%', '!')).toBe(true);
    expect(like('50!%', '500', '!')).toBe(false);
    expect(like('%!_%', 'a_b', '!')).toBe(true);
    expect(like('%!_%', 'ab', '!')).toBe(false);
    expect(like('a!!b', 'a!b', '!')).toBe(true);
    expect(like('%😀%%', 'x%', '😀')).toBe(true);
    for (const bad of ['abc!', 'a!bc']) {
      expect(() => compileLike(bad, '!')).toThrow(SelectError);
      expect(() => compileLike(bad, '!')).toThrow(
        expect.objectContaining({ code: 'EvaluatorLikePatternInvalidEscapeSequence' }),
      );
    }
    expect(() => compileLike('a', '!!')).toThrow(
      expect.objectContaining({ code: 'EvaluatorLikePatternInvalidEscapeSequence' }),
    );
  });

  it('refuses a run of more than 128 characters holding _ between two %, whatever else the pattern holds', () => {
    const longest = `${'a'.repeat(63)}_${'b'.repeat(64)}`; // 128 characters
    expect(like(`%${longest}%`, `x${'a'.repeat(63)}Z${'b'.repeat(64)}y`)).toBe(true);
    expect(like(`${longest}%${longest}`, `${'a'.repeat(63)}Z${'b'.repeat(64)}`.repeat(2))).toBe(true);
    const refused = [`%${longest}b%`, `_${'a'.repeat(128)}`, `${'a'.repeat(200)}_`, `%${'_'.repeat(129)}%`];
    for (const p of refused) {
      expect(() => compileLike(p), p.slice(0, 20)).toThrow(expect.objectContaining({ code: 'LikeInvalidInputs' }));
    }
    // Runs without _ are searched in linear time at any length; an escaped _ is a plain character.
    expect(like(`%${'a'.repeat(5000)}%`, 'a'.repeat(6000))).toBe(true);
    expect(like(`%${'a!_'.repeat(2000)}%`, `x${'a_'.repeat(2000)}`, '!')).toBe(true);
  });

  it('reads [...] as a character class only when asked (the ceph dialect), in linear time', () => {
    const ceph = (p: string, t: string) => compileLike(p, undefined, true)(t);
    const cases: [string, string, boolean][] = [
      ['%y[y-z]', 'abyz', true],
      ['%y[y-z]', 'abya', false],
      ['[abc]', 'b', true],
      ['[abc]', 'd', false],
      ['[^abc]', 'd', true],
      ['[!abc]', 'a', false],
      ['[]a]', ']', true],
      ['a[b', 'a[b', true],
      ['[a-c][a-c]%', 'cbz', true],
      ['%[é-ü]%', 'xüx', true],
      ['%[😀]_', 'a😀b', true],
      ['%[😀]_', 'a😀', false],
      [`%${'a'.repeat(40)}[bc]${'d'.repeat(40)}%`, `z${'a'.repeat(41)}c${'d'.repeat(40)}`, true],
    ];
    for (const [p, t, want] of cases) expect(ceph(p, t), `'${t}' LIKE '${p}'`).toBe(want);
    expect(like('%y[y-z]', 'ayy')).toBe(false);
    expect(like('%y[y-z]', 'ay[y-z]')).toBe(true);
    expect(() => compileLike('[z-a]', undefined, true)).toThrow(expect.objectContaining({ code: 'LikeInvalidInputs' }));
    expect(() => compileLike(`[${'a'.repeat(300)}]`, undefined, true)).toThrow(
      expect.objectContaining({ code: 'LikeInvalidInputs' }),
    );
    // Many unclosed [ are read once (no rescan per [): a 200 KB pattern compiles, and matches literally.
    const unclosed = '['.repeat(200_000);
    expect(compileLike(unclosed, undefined, true)(unclosed)).toBe(true);
  });

  it('reads the edges of a [...] class: negation, a closing ] or - as members, one-character ranges', () => {
    const ceph = (p: string, t: string) => compileLike(p, undefined, true)(t);
    const cases: [string, string, boolean][] = [
      // ^ and ! negate; they are not members themselves, nor is the [ that opens the class.
      ['[^a]', '^', true],
      ['[^a]', '[', true],
      ['[!a]', '!', true],
      ['[^a]', 'a', false],
      // A - before the ] or at the end of the pattern is a member, not a range.
      ['[a-]', '-', true],
      ['[a-]', 'a', true],
      ['[a-]', 'b', false],
      ['[a-', '[a-', true],
      ['[a-', 'a', false],
      // A range may start and end at the same character.
      ['[a-a]', 'a', true],
      ['[a-a]', 'b', false],
    ];
    for (const [p, t, want] of cases) expect(ceph(p, t), `'${t}' LIKE '${p}'`).toBe(want);
  });

  it('bounds [...] at 256 members and ranges in all, and counts classes, escapes and an unclosed [ in a run', () => {
    const ceph = (p: string) => compileLike(p, undefined, true);
    const members = (n: number) => Array.from({ length: n }, (_, k) => String.fromCodePoint(0x4e00 + k)).join('');
    // 256 members over two classes compile (and match); one more is refused.
    const most = `[${members(200)}]%[${members(56)}]`;
    expect(ceph(most)(`${String.fromCodePoint(0x4e00 + 199)}xx${String.fromCodePoint(0x4e00)}`)).toBe(true);
    expect(() => ceph(`${most}[a]`)).toThrow(expect.objectContaining({ code: 'LikeInvalidInputs' }));
    expect(() => ceph(`[${members(257)}]`)).toThrow(expect.objectContaining({ code: 'LikeInvalidInputs' }));
    // A run of 128 characters holding a class or a _ compiles; 129 are refused, whatever makes them up.
    const refused = (p: string, escape?: string) =>
      expect(() => compileLike(p, escape, true), p.slice(0, 20)).toThrow(
        expect.objectContaining({ code: 'LikeInvalidInputs' }),
      );
    expect(ceph(`[ab]${'a'.repeat(127)}`)(`b${'a'.repeat(127)}`)).toBe(true);
    refused(`[ab]${'a'.repeat(128)}`);
    refused(`${'a'.repeat(128)}[ab]`);
    expect(ceph(`_[${'a'.repeat(126)}`)(`x[${'a'.repeat(126)}`)).toBe(true);
    refused(`_[${'a'.repeat(127)}`);
    expect(compileLike(`_${'!%'.repeat(127)}`, '!')(`x${'%'.repeat(127)}`)).toBe(true);
    refused(`_${'!%'.repeat(128)}`, '!');
    refused(`${'!_'.repeat(128)}_`, '!');
  });

  it('reads policy globs with * and ?', () => {
    const glob = (p: string, t: string) => compileWildcard(globParts(p))(t);
    expect(glob('arn:aws:s3:::b/*', 'arn:aws:s3:::b/x/y')).toBe(true);
    expect(glob('arn:aws:s3:::b/?', 'arn:aws:s3:::b/xy')).toBe(false);
    expect(glob('s3:Get*', 's3:GetObject')).toBe(true);
    expect(glob('arn:aws:s3:::b/*a*a*a*a*ab', `arn:aws:s3:::b/${'a'.repeat(1024)}`)).toBe(false);
  });

  it('agrees with a reference matcher on random patterns and texts (seeded fuzz)', () => {
    const random = seededRandom();
    const seed = random.seed;
    console.log(`wildcard fuzz seed: ${seed} (CAIRN_TEST_SEED=${seed} replays it)`);
    const r = random.next;
    // Few letters so that matches happen; the text may hold the pattern's special characters too.
    const textChars = ['a', 'b', 'a', 'b', '😀', '%', '_', '!'];
    const patternChars = ['a', 'b', 'a', 'b', '😀', '%', '%', '_', '_', '!'];
    const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
    let matched = 0;
    for (let round = 0; round < 6000; round++) {
      // Texts mostly from a small alphabet (so matches happen), sometimes long enough for multi-word segments.
      const textLen = r() < 0.1 ? 40 + Math.floor(r() * 80) : Math.floor(r() * 12);
      const text = Array.from({ length: textLen }, () => pick(textChars)).join('');
      const patLen = r() < 0.1 ? 33 + Math.floor(r() * 40) : Math.floor(r() * 10);
      let pattern = Array.from({ length: patLen }, () => pick(patternChars)).join('');
      const escape = r() < 0.3 ? '!' : undefined;
      // Mostly well-formed escapes: a '!' followed by %, _ or '!'.
      if (escape) pattern = pattern.replace(/!(?=[^%_!]|$)/gu, '!!');
      let ok: boolean;
      try {
        ok = like(pattern, text, escape);
      } catch (e) {
        expect(e, `seed ${seed}: '${text}' LIKE '${pattern}'`).toBeInstanceOf(SelectError);
        continue;
      }
      expect(ok, `seed ${seed}: '${text}' LIKE '${pattern}' ESCAPE ${escape}`).toBe(
        referenceLike(pattern, escape, text),
      );
      if (ok) matched++;
    }
    // Both answers occur often enough for the comparison to mean something.
    expect(matched).toBeGreaterThan(300);
    expect(matched).toBeLessThan(5700);
  });

  it('agrees with the reference on random patterns with [...] classes (seeded fuzz)', () => {
    const random = seededRandom();
    console.log(`wildcard class fuzz seed: ${random.seed}`);
    const r = random.next;
    const textChars = ['a', 'b', 'c', '😀', 'é'];
    const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
    const classes: [string, CharClass][] = [
      [
        '[ab]',
        {
          ranges: [
            [97, 97],
            [98, 98],
          ],
          negate: false,
        },
      ],
      ['[^a]', { ranges: [[97, 97]], negate: true }],
      ['[b-c]', { ranges: [[98, 99]], negate: false }],
      [
        '[😀é]',
        {
          ranges: [
            [0x1f600, 0x1f600],
            [0xe9, 0xe9],
          ],
          negate: false,
        },
      ],
    ];
    let matched = 0;
    for (let round = 0; round < 4000; round++) {
      const textLen = r() < 0.1 ? 40 + Math.floor(r() * 60) : Math.floor(r() * 10);
      const text = Array.from({ length: textLen }, () => pick(textChars)).join('');
      let pattern = '';
      const parts: WildcardPart[] = [];
      const patLen = r() < 0.1 ? 33 + Math.floor(r() * 30) : Math.floor(r() * 8);
      for (let i = 0; i < patLen; i++) {
        const x = r();
        if (x < 0.3) {
          const [src, cls] = classes[Math.floor(r() * classes.length)];
          pattern += src;
          parts.push(cls);
        } else if (x < 0.5) {
          pattern += '%';
          parts.push(ANY);
        } else if (x < 0.6) {
          pattern += '_';
          parts.push(ONE);
        } else {
          const ch = pick(textChars);
          pattern += ch;
          parts.push(ch);
        }
      }
      const ok = compileLike(pattern, undefined, true)(text);
      expect(ok, `seed ${random.seed}: '${text}' LIKE '${pattern}'`).toBe(reference(parts, text));
      if (ok) matched++;
    }
    expect(matched).toBeGreaterThan(200);
    expect(matched).toBeLessThan(3800);
  });
});
