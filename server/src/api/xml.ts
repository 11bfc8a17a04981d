// XML in and out. Responses are built from plain objects (arrays repeat their element, undefined is left
// out) so each handler states S3's exact shape; request bodies are parsed with fast-xml-parser after a
// validation pass, and anything that is not well-formed is MalformedXML.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../errors.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | undefined
  | null
  | XmlValue[]
  | XmlSequence
  | XmlRaw
  | { [k: string]: XmlValue };

/**
 * Children of different names in a given order (ListVersionsResult interleaves Version and DeleteMarker in
 * key/version order, and SDKs read them in document order). Its own key in the parent object is not written.
 */
export class XmlSequence {
  constructor(readonly items: [name: string, value: XmlValue][]) {}
}

/**
 * An element already written (its tags included): the entries a listing repeats a thousand times a page are
 * written directly (list.ts), which costs 2-3x less than building each from an object (bench/storage/README.md).
 */
export class XmlRaw {
  constructor(readonly xml: string) {}
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** A text that escapeXml changes (most keys and values have none: they are returned as they are). */
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000a-\u001f]/;

export function escapeXml(s: string, quotes = true): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  // Control characters other than tab are written as character references: XML 1.0 forbids most of them,
  // and parsers would normalize a literal CR or newline away.
  return s
    .replace(quotes ? /[&<>"']/g : /[&<>]/g, (c) => ESC[c])
    .replace(/[\u0000-\u0008\u000a-\u001f]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

function text(v: string | number | boolean | Date, quotes: boolean): string {
  if (v instanceof Date) return v.toISOString();
  return escapeXml(String(v), quotes);
}

function element(name: string, v: XmlValue, out: string[], quotes: boolean): void {
  if (v === undefined || v === null) return;
  if (v instanceof XmlRaw) {
    out.push(v.xml);
    return;
  }
  if (v instanceof XmlSequence) {
    for (const [childName, child] of v.items) element(childName, child, out, quotes);
    return;
  }
  if (Array.isArray(v)) {
    for (const item of v) element(name, item, out, quotes);
    return;
  }
  if (typeof v === 'object' && !(v instanceof Date)) {
    out.push(`<${name}>`);
    for (const [k, child] of Object.entries(v)) element(k, child, out, quotes);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${text(v, quotes)}</${name}>`);
}

/**
 * `<?xml ...?><Root xmlns="...">...</Root>`; pass ns = null for documents S3 sends without a namespace.
 * Quotes in text are escaped as S3 does in its documents (`&quot;` around ETags); `escapeQuotes: false`
 * writes them as they are, as S3 does in error messages (clients look for `["eq", "$key", ...]` there).
 */
export function toXml(
  root: string,
  body: { [k: string]: XmlValue },
  ns: string | null = S3_NS,
  opts: { escapeQuotes?: boolean } = {},
): string {
  const quotes = opts.escapeQuotes ?? true;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', ns ? `<${root} xmlns="${ns}">` : `<${root}>`];
  for (const [k, v] of Object.entries(body)) element(k, v, out, quotes);
  out.push(`</${root}>`);
  return out.join('');
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  // Keys may be all whitespace (`<Key> </Key>`): text is kept exactly as sent.
  trimValues: false,
  processEntities: true,
  // Numeric character references (`&#34;`, which Go clients such as rclone write for the quotes around ETags)
  // are only decoded with this on.
  htmlEntities: true,
  // No callback reads element paths: not building each one as a string saves a fifth of the parse.
  jPath: false,
});

/** Parses a request document; its root element must be `root`. Returns the root's content. */
export function parseXml(body: string, root: string): Record<string, unknown> {
  if (body.trim() === '') throw new S3Error('MalformedXML');
  if (XMLValidator.validate(body) !== true) throw new S3Error('MalformedXML');
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(body) as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedXML');
  }
  const content = doc[root];
  if (content === undefined) throw new S3Error('MalformedXML');
  return content === '' ? {} : (content as Record<string, unknown>);
}

/** A child that may occur once or many times, as an array. */
export function many(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** A child that must be a string (text content), or undefined. */
export function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new S3Error('MalformedXML');
}
