// LIKE: the pattern is compiled once into a wildcard matcher (../wildcard.ts, linear time in the value).
// `%` matches any run of characters, `_` exactly one; ESCAPE makes either (or itself) literal.
import { SelectError } from '../errors.js';
import { ANY, ONE, compileWildcard, type WildcardPart } from '../wildcard.js';

export type StringTest = (s: string) => boolean;

/**
 * Longest run of pattern characters between two `%` (or an end) that may hold `_`. Such a run is matched
 * bit-parallel, at a cost per value character of one machine word per 32 pattern characters: up to 128
 * (4 words) a 1 MB value takes about 12 ms, as a short pattern does; the 256 KB a query may hold would take
 * seconds per value. Runs without `_` are searched in linear time whatever their length.
 */
export const MAX_LIKE_RUN_WITH_ONE = 128;

export function compileLike(pattern: string, escape?: string): StringTest {
  if (escape !== undefined && [...escape].length !== 1)
    throw new SelectError('EvaluatorLikePatternInvalidEscapeSequence', 'ESCAPE must be a single character');
  const parts: WildcardPart[] = [];
  let lit = '';
  const chars = [...pattern];
  // The current run between two % (in characters) and whether it holds a _.
  let run = 0;
  let runHasOne = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (escape !== undefined && c === escape) {
      const next = chars[i + 1];
      if (next === undefined || (next !== '%' && next !== '_' && next !== escape)) {
        throw new SelectError(
          'EvaluatorLikePatternInvalidEscapeSequence',
          `Invalid escape sequence in LIKE pattern '${pattern}'`,
        );
      }
      lit += next;
      run++;
      i++;
    } else if (c === '%' || c === '_') {
      if (lit) parts.push(lit);
      lit = '';
      parts.push(c === '%' ? ANY : ONE);
      if (c === '%') run = 0;
      else run++;
      runHasOne = c === '_' || (runHasOne && c !== '%');
    } else {
      lit += c;
      run++;
    }
    if (runHasOne && run > MAX_LIKE_RUN_WITH_ONE) {
      const message = `A LIKE pattern may hold at most ${MAX_LIKE_RUN_WITH_ONE} characters between two % if one is _`;
      throw new SelectError('LikeInvalidInputs', message);
    }
  }
  if (lit) parts.push(lit);
  return compileWildcard(parts);
}
