// LIKE: the pattern is compiled once into a wildcard matcher (../wildcard.ts, linear time in the value).
// `%` matches any run of characters, `_` exactly one; ESCAPE makes either (or itself) literal.
import { SelectError } from '../errors.js';
import { ANY, ONE, compileWildcard, type WildcardPart } from '../wildcard.js';

export type StringTest = (s: string) => boolean;

export function compileLike(pattern: string, escape?: string): StringTest {
  if (escape !== undefined && [...escape].length !== 1) throw new SelectError('EvaluatorLikePatternInvalidEscapeSequence', 'ESCAPE must be a single character');
  const parts: WildcardPart[] = [];
  let lit = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (escape !== undefined && c === escape) {
      const next = chars[i + 1];
      if (next === undefined || (next !== '%' && next !== '_' && next !== escape)) {
        throw new SelectError('EvaluatorLikePatternInvalidEscapeSequence', `Invalid escape sequence in LIKE pattern '${pattern}'`);
      }
      lit += next;
      i++;
    } else if (c === '%' || c === '_') {
      if (lit) parts.push(lit);
      lit = '';
      parts.push(c === '%' ? ANY : ONE);
    } else lit += c;
  }
  if (lit) parts.push(lit);
  return compileWildcard(parts);
}
