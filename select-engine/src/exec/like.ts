// LIKE: the pattern is compiled once into a wildcard matcher (../wildcard.ts, linear time in the value).
// `%` matches any run of characters, `_` exactly one; ESCAPE makes either (or itself) literal.
import { SelectError } from '../errors.js';
import { ANY, ONE, compileWildcard, type CharClass, type WildcardPart } from '../wildcard.js';

export type StringTest = (s: string) => boolean;

/**
 * Longest run of pattern characters between two `%` (or an end) that may hold `_`. Such a run is matched
 * bit-parallel, at a cost per value character of one machine word per 32 pattern characters: up to 128
 * (4 words) a 1 MB value takes about 12 ms, as a short pattern does; the 256 KB a query may hold would take
 * seconds per value. Runs without `_` are searched in linear time whatever their length.
 */
export const MAX_LIKE_RUN_WITH_ONE = 128;

/** Members and ranges all `[...]` of a pattern may hold: each costs a test per non-ASCII character. */
export const MAX_LIKE_CLASS_RANGES = 256;

/**
 * The ceph dialect's `[...]` at chars[i] (Ceph's LIKE is a regular expression where `[...]` is a class):
 * `[abc]`, `[a-z]`, `[^a-z]` or `[!a-z]`. Returns the class and the index of its `]`, or undefined when no
 * `]` closes it (the `[` is then literal). Scans to the `]` only: a pattern is read once overall.
 */
function bracketClass(chars: string[], i: number): { cls: CharClass; end: number } | undefined {
  let j = i + 1;
  const negate = chars[j] === '^' || chars[j] === '!';
  if (negate) j++;
  const ranges: Array<[number, number]> = [];
  // A `]` right after the opening (or the negation) is a member, as in POSIX classes.
  for (let first = true; j < chars.length && (first || chars[j] !== ']'); j++, first = false) {
    const lo = chars[j].codePointAt(0)!;
    if (chars[j + 1] === '-' && j + 2 < chars.length && chars[j + 2] !== ']') {
      const hi = chars[j + 2].codePointAt(0)!;
      if (hi < lo) throw new SelectError('LikeInvalidInputs', `Invalid range ${chars[j]}-${chars[j + 2]} in LIKE`);
      ranges.push([lo, hi]);
      j += 2;
    } else ranges.push([lo, lo]);
  }
  if (j >= chars.length) return undefined;
  return { cls: { ranges, negate }, end: j };
}

export function compileLike(pattern: string, escape?: string, brackets = false): StringTest {
  if (escape !== undefined && [...escape].length !== 1)
    throw new SelectError('EvaluatorLikePatternInvalidEscapeSequence', 'ESCAPE must be a single character');
  const parts: WildcardPart[] = [];
  let lit = '';
  const chars = [...pattern];
  // The current run between two % (in characters) and whether it holds a _.
  let run = 0;
  let runHasOne = false;
  let unclosed = false;
  let ranges = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === escape) {
      const next = chars[i + 1]; // undefined after a trailing escape: refused as well
      if (next !== '%' && next !== '_' && next !== escape) {
        throw new SelectError(
          'EvaluatorLikePatternInvalidEscapeSequence',
          `Invalid escape sequence in LIKE pattern '${pattern}'`,
        );
      }
      lit += next;
      run++;
      i++;
    } else if (brackets && c === '[' && !unclosed) {
      // A class stands for one character, like `_` (and shares its run limit). Once a `[` finds no `]`, no
      // later one can: the pattern is not scanned again.
      const b = bracketClass(chars, i);
      if (b === undefined) {
        unclosed = true;
        lit += c;
        run++;
      } else {
        ranges += b.cls.ranges.length;
        if (ranges > MAX_LIKE_CLASS_RANGES) {
          throw new SelectError(
            'LikeInvalidInputs',
            `A LIKE pattern may hold at most ${MAX_LIKE_CLASS_RANGES} characters and ranges in [...]`,
          );
        }
        parts.push(lit, b.cls);
        lit = '';
        run++;
        runHasOne = true;
        i = b.end;
      }
    } else if (c === '%') {
      parts.push(lit, ANY);
      lit = '';
      run = 0;
      runHasOne = false;
    } else if (c === '_') {
      parts.push(lit, ONE);
      lit = '';
      run++;
      runHasOne = true;
    } else {
      lit += c;
      run++;
    }
    if (runHasOne && run > MAX_LIKE_RUN_WITH_ONE) {
      throw new SelectError(
        'LikeInvalidInputs',
        `A LIKE pattern may hold at most ${MAX_LIKE_RUN_WITH_ONE} characters between two % if one is _`,
      );
    }
  }
  // Text parts may be empty (two wildcards in a row): '' adds nothing to a wildcard segment.
  parts.push(lit);
  return compileWildcard(parts);
}
