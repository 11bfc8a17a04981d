// Wildcard matching in time linear in the text, for patterns that come from clients: SQL LIKE (`%`, `_`)
// here, and bucket-policy globs (`*`, `?`) in the server. Never a RegExp: V8's backtracking turns
// `%a%a%a%b` into seconds per row, and even String.prototype.indexOf is quadratic on inputs such as
// indexOf('a'.repeat(500) + 'b' + 'a'.repeat(500)) over a megabyte of 'a' (measured: seconds).
//
// A pattern is a list of parts: literal text, ANY (any run of characters, maybe empty) and ONE (exactly one
// character, i.e. one code point). It is cut at every ANY into segments. The first segment must match at the
// start, the last at the end, and each one in between is matched greedily at its leftmost place after the
// previous one: with nothing but ANY between segments, the leftmost place is always as good as any later one,
// so there is never a step back. Each text character is therefore examined by one segment search only:
//   - a literal segment is searched with Knuth-Morris-Pratt: O(text + segment);
//   - a segment holding ONE is searched bit-parallel (shift-and over 32-bit words): O(text * ceil(segment / 32)).
// Compiling costs O(pattern); the compiled matcher is meant to be kept (once per policy, once per query).

export const ANY = Symbol('any');
export const ONE = Symbol('one');
/**
 * One character from a set (the ceph dialect's LIKE `[a-z]`, `[^0-9]`): inclusive code point ranges.
 * Matched like ONE, bit-parallel; a class costs its ranges per non-ASCII character examined.
 */
export interface CharClass {
  ranges: Array<[number, number]>;
  negate: boolean;
}
export type WildcardPart = string | typeof ANY | typeof ONE | CharClass;
type SegmentPart = Exclude<WildcardPart, typeof ANY>;

function inClass(c: CharClass, cp: number): boolean {
  let hit = false;
  for (const [lo, hi] of c.ranges) if (cp >= lo && cp <= hi) hit = true;
  return hit !== c.negate;
}

export type WildcardMatcher = (text: string) => boolean;

/** A run of literal text and ONEs between two ANYs, compiled for the searches it will need. */
interface Segment {
  /** No characters at all (two ANYs in a row, or an ANY at either end). */
  empty: boolean;
  /** Code points, -1 for ONE, -2 - k for classes[k] (segments holding either; a literal one needs its text). */
  points: Int32Array;
  classes?: CharClass[];
  /** Bit positions of the classes (ceil(points / 32) words each), for non-ASCII characters. */
  classBits?: Uint32Array[];
  /** The segment as text when it has no ONE (anchored checks use startsWith/endsWith, searches use KMP). */
  literal?: string;
  /** KMP failure function over `literal` (UTF-16 units), built on the first search: anchored segments never need it. */
  failure?: Int32Array;
  /** Shift-and masks, ceil(points / 32) words per code point; `other` for characters not in the segment. */
  masks?: Map<number, Uint32Array>;
  other?: Uint32Array;
  /** The masks of the 128 ASCII characters, looked up without the Map. */
  ascii?: Uint32Array[];
}

/** Code point at i and its length in UTF-16 units (a lone surrogate counts as one character). */
function pointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}
const unitsOf = (cp: number): number => (cp > 0xffff ? 2 : 1);

function kmpFailure(p: string): Int32Array {
  const f = new Int32Array(p.length);
  for (let i = 1, k = 0; i < p.length; i++) {
    while (k > 0 && p.charCodeAt(i) !== p.charCodeAt(k)) k = f[k - 1];
    if (p.charCodeAt(i) === p.charCodeAt(k)) k++;
    f[i] = k;
  }
  return f;
}

const NO_POINTS = new Int32Array(0);

function compileSegment(parts: SegmentPart[]): Segment {
  // Literal text compiles to itself: policy templates compile a matcher per caller, so this must stay cheap.
  if (parts.every((p) => typeof p === 'string')) {
    const literal = (parts as string[]).join('');
    return { empty: literal === '', points: NO_POINTS, literal };
  }
  const points: number[] = [];
  const classes: CharClass[] = [];
  for (const p of parts) {
    if (p === ONE) points.push(-1);
    else if (typeof p === 'object') {
      points.push(-2 - classes.length);
      classes.push(p);
    } else for (const ch of p) points.push(ch.codePointAt(0)!);
  }
  const seg: Segment = { empty: false, points: Int32Array.from(points) };
  const words = Math.ceil(points.length / 32);
  const other = new Uint32Array(words);
  points.forEach((cp, i) => {
    if (cp === -1) other[i >>> 5] |= 1 << (i & 31);
  });
  const masks = new Map<number, Uint32Array>();
  points.forEach((cp, i) => {
    if (cp === -1) return;
    let m = masks.get(cp);
    if (!m) masks.set(cp, (m = Uint32Array.from(other)));
    m[i >>> 5] |= 1 << (i & 31);
  });
  seg.masks = masks;
  seg.other = other;
  seg.ascii = Array.from({ length: 128 }, (_, c) => masks.get(c) ?? other);
  if (classes.length > 0) {
    seg.classes = classes;
    seg.classBits = classes.map((_, k) => {
      const bits = new Uint32Array(words);
      points.forEach((cp, i) => {
        if (cp === -2 - k) bits[i >>> 5] |= 1 << (i & 31);
      });
      return bits;
    });
    // ASCII masks take in the classes once; other characters are tested per class when met (classMask).
    seg.ascii = seg.ascii.map((m, c) => withClasses(seg, m, c));
  }
  return seg;
}

/** A character's mask with the bits of the classes that accept it added (a new array when any does). */
function withClasses(seg: Segment, mask: Uint32Array, cp: number): Uint32Array {
  let out = mask;
  seg.classes!.forEach((c, k) => {
    if (!inClass(c, cp)) return;
    if (out === mask) out = Uint32Array.from(mask);
    const bits = seg.classBits![k];
    for (let w = 0; w < out.length; w++) out[w] |= bits[w];
  });
  return out;
}

/** Whether a segment position (a code point, ONE or a class) accepts the character. */
function accepts(seg: Segment, want: number, cp: number): boolean {
  return want === -1 || want === cp || (want <= -2 && inClass(seg.classes![-2 - want], cp));
}

/** End of the segment matched at `pos`, or -1. */
function matchForward(seg: Segment, s: string, pos: number): number {
  if (seg.literal !== undefined) return s.startsWith(seg.literal, pos) ? pos + seg.literal.length : -1;
  let i = pos;
  for (const want of seg.points) {
    if (i >= s.length) return -1;
    const cp = pointAt(s, i);
    if (!accepts(seg, want, cp)) return -1;
    i += unitsOf(cp);
  }
  return i;
}

/** Start of the segment matched so that it ends at `end`, or -1. */
function matchBackward(seg: Segment, s: string, end: number): number {
  if (seg.literal !== undefined) return s.endsWith(seg.literal, end) ? end - seg.literal.length : -1;
  let i = end;
  for (let k = seg.points.length - 1; k >= 0; k--) {
    if (i <= 0) return -1;
    const low = s.charCodeAt(i - 1);
    const pair = low >= 0xdc00 && low <= 0xdfff && i >= 2 && pointAt(s, i - 2) > 0xffff;
    const cp = pair ? pointAt(s, i - 2) : low;
    const want = seg.points[k];
    if (!accepts(seg, want, cp)) return -1;
    i -= pair ? 2 : 1;
  }
  return i;
}

/** End of the leftmost occurrence of the segment inside s[from, limit), or -1. */
function search(seg: Segment, s: string, from: number, limit: number): number {
  if (seg.literal !== undefined) {
    const p = seg.literal;
    seg.failure ??= kmpFailure(p);
    const f = seg.failure;
    for (let i = from, k = 0; i < limit; i++) {
      const c = s.charCodeAt(i);
      while (k > 0 && c !== p.charCodeAt(k)) k = f[k - 1];
      if (c === p.charCodeAt(k)) k++;
      if (k === p.length) return i + 1;
    }
    return -1;
  }
  // Shift-and: bit j of `state` says the segment's first j+1 characters end at the current character.
  const words = seg.other!.length;
  const lastWord = (seg.points.length - 1) >>> 5;
  const lastBit = 1 << ((seg.points.length - 1) & 31);
  const state = new Uint32Array(words);
  for (let i = from; i < limit; ) {
    const cp = pointAt(s, i);
    let mask = cp < 128 ? seg.ascii![cp] : (seg.masks!.get(cp) ?? seg.other!);
    if (cp >= 128 && seg.classes) mask = withClasses(seg, mask, cp);
    let carry = 1; // a match may start at this character
    for (let w = 0; w < words; w++) {
      const v = state[w];
      state[w] = ((v << 1) | carry) & mask[w];
      carry = v >>> 31;
    }
    i += unitsOf(cp);
    if (state[lastWord] & lastBit) return i <= limit ? i : -1;
  }
  return -1;
}

/** Compiles a pattern once; the matcher it returns runs in linear time in the text (see the file comment). */
export function compileWildcard(parts: readonly WildcardPart[]): WildcardMatcher {
  const segments: SegmentPart[][] = [[]];
  for (const p of parts) {
    if (p === ANY) segments.push([]);
    else if (p !== '') segments[segments.length - 1].push(p);
  }
  const compiled = segments.map(compileSegment);
  if (compiled.length === 1) {
    const only = compiled[0];
    return (s) => matchForward(only, s, 0) === s.length;
  }
  const first = compiled[0];
  const last = compiled[compiled.length - 1];
  const middle = compiled.slice(1, -1).filter((seg) => !seg.empty);
  return (s) => {
    let pos = first.empty ? 0 : matchForward(first, s, 0);
    if (pos < 0) return false;
    const end = last.empty ? s.length : matchBackward(last, s, s.length);
    if (end < pos) return false;
    for (const seg of middle) {
      pos = search(seg, s, pos, end);
      if (pos < 0) return false;
    }
    return true;
  };
}

/** Parts of a glob where `*` is ANY and `?` is ONE (bucket policies, which have no escape character). */
export function globParts(pattern: string): WildcardPart[] {
  const parts: WildcardPart[] = [];
  let lit = '';
  for (const ch of pattern) {
    if (ch !== '*' && ch !== '?') {
      lit += ch;
      continue;
    }
    if (lit) parts.push(lit);
    lit = '';
    parts.push(ch === '*' ? ANY : ONE);
  }
  if (lit) parts.push(lit);
  return parts;
}
