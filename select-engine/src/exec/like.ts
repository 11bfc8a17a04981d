// LIKE: the pattern is compiled once (to a plain string test when it has no wildcard in the middle, else
// to an anchored RegExp). `%` matches any run of characters, `_` exactly one; ESCAPE makes either literal.
import { SelectError } from '../errors.js';

export type StringTest = (s: string) => boolean;

export function compileLike(pattern: string, escape?: string): StringTest {
  if (escape !== undefined && [...escape].length !== 1) throw new SelectError('EvaluatorLikePatternInvalidEscapeSequence', 'ESCAPE must be a single character');
  // Tokens: literal text runs, '%' and '_'.
  const parts: Array<string | '%' | '_'> = [];
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
      parts.push(c as '%' | '_');
    } else lit += c;
  }
  if (lit) parts.push(lit);

  const isLit = (p: string | undefined): p is string => p !== undefined && p !== '%' && p !== '_';
  // Fast shapes: 'abc', 'abc%', '%abc', '%abc%', '%'.
  if (parts.length === 0) return (s) => s === '';
  if (parts.length === 1 && isLit(parts[0])) {
    const t = parts[0];
    return (s) => s === t;
  }
  if (parts.length === 1 && parts[0] === '%') return () => true;
  if (parts.length === 2 && isLit(parts[0]) && parts[1] === '%') {
    const t = parts[0];
    return (s) => s.startsWith(t);
  }
  if (parts.length === 2 && parts[0] === '%' && isLit(parts[1])) {
    const t = parts[1];
    return (s) => s.endsWith(t);
  }
  if (parts.length === 3 && parts[0] === '%' && isLit(parts[1]) && parts[2] === '%') {
    const t = parts[1];
    return (s) => s.includes(t);
  }
  let src = '^';
  for (const p of parts) src += p === '%' ? '[\\s\\S]*' : p === '_' ? '[\\s\\S]' : p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const re = new RegExp(src + '$', 'u');
  return (s) => re.test(s);
}
