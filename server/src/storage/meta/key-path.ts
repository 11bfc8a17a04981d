// Key -> path under the bucket directory. Each `/`-separated segment becomes one directory name with a
// suffix saying what it is, so every valid S3 key has its own place and none escapes the drive:
//   `<seg>.o`  the object named by the key (holds the `meta` file and data dirs),
//   `<seg>.d`  the "directory" `<seg>/` (children follow a `/`),
//   `<seg>.c`  a continuation: a segment too long for one file name goes on in the children (no `/`).
// So `a` (a.o) and `a/b` (a.d/b.o) live side by side, `a/` is `a.d/.o`, `..` is `...o`, `//` is `.d/.d/.o`.
// Inside a segment only `%` and control characters are escaped (%XX), keeping names short and readable.
// Names without one of these suffixes (`_idx`, `meta`) belong to the engine and never collide with keys.
import { S3Error } from '../../errors.js';

export const OBJ = '.o';
export const DIR = '.d';
export const CONT = '.c';
/** Longest escaped chunk per file name: + 2 for the suffix stays under NAME_MAX (255 bytes). */
const MAX_CHUNK = 240;
const ESCAPE = /[%\x00-\x1f\x7f]/g;
const UNESCAPE = /%([0-9A-F]{2})/g;
const LONE_SURROGATE = /\p{Cs}/u;

export function escapeSegment(seg: string): string {
  return seg.replace(ESCAPE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function unescapeSegment(name: string): string {
  return name.indexOf('%') < 0 ? name : name.replace(UNESCAPE, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Cut an escaped segment into chunks of at most MAX_CHUNK bytes, never inside %XX or a code point. */
function chunks(escaped: string): string[] {
  if (escaped.length * 3 <= MAX_CHUNK || Buffer.byteLength(escaped) <= MAX_CHUNK) return [escaped];
  const out: string[] = [];
  let cur = '';
  let bytes = 0;
  for (let i = 0; i < escaped.length; ) {
    let tok: string;
    if (escaped[i] === '%') tok = escaped.slice(i, i + 3);
    else tok = String.fromCodePoint(escaped.codePointAt(i)!);
    const b = Buffer.byteLength(tok);
    if (bytes + b > MAX_CHUNK) {
      out.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += tok;
    bytes += b;
    i += tok.length;
  }
  out.push(cur);
  return out;
}

function segmentPath(seg: string, suffix: string): string {
  const c = chunks(escapeSegment(seg));
  return c.map((x, i) => x + (i === c.length - 1 ? suffix : CONT)).join('/');
}

export function validateKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', 'The key must not be empty.');
  if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError');
  if (LONE_SURROGATE.test(key)) throw new S3Error('InvalidArgument', 'The key is not valid UTF-8.');
}

/** Path of the object directory of `key`, relative to the bucket directory. */
export function objectDir(key: string): string {
  const segs = key.split('/');
  const last = segs.pop()!;
  return [...segs.map((s) => segmentPath(s, DIR)), segmentPath(last, OBJ)].join('/');
}

/**
 * Directory (relative to the bucket) holding everything whose key starts with `prefix` up to its last `/`,
 * and the rest of the prefix that entries there must start with.
 */
export function prefixDir(prefix: string): { dir: string; rest: string } {
  const cut = prefix.lastIndexOf('/');
  if (cut < 0) return { dir: '', rest: prefix };
  const segs = prefix.slice(0, cut).split('/');
  return { dir: segs.map((s) => segmentPath(s, DIR)).join('/'), rest: prefix.slice(cut + 1) };
}

export type EntryKind = 'obj' | 'dir' | 'cont';

/** Parse a directory entry name: what it is and the (unescaped) text it contributes to keys. */
export function parseEntry(name: string): { kind: EntryKind; text: string } | null {
  if (name.length < 2 || name[name.length - 2] !== '.') return null;
  const text = unescapeSegment(name.slice(0, -2));
  switch (name[name.length - 1]) {
    case 'o':
      return { kind: 'obj', text };
    case 'd':
      return { kind: 'dir', text: `${text}/` };
    case 'c':
      return { kind: 'cont', text };
    default:
      return null;
  }
}

/** Compare strings in UTF-8 byte order (S3's order), which differs from UTF-16 order above U+D7FF. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}
