// A streaming multipart/form-data reader for POST policy uploads. Fields before the `file` part are read
// into memory (small, with limits); the file part is handed out as a stream that ends at the next
// boundary, so uploads are never buffered whole. Fields after the file are ignored, as S3 does.
import { Readable } from 'node:stream';
import { S3Error } from '../errors.js';

const MAX_FIELD = 64 * 1024;
const MAX_FIELDS_TOTAL = 1024 * 1024;
const MAX_PART_HEADER = 8 * 1024;

export interface FormUpload {
  /** Field names lower-cased (S3 matches form field names case-insensitively). */
  fields: Map<string, string>;
  fileName: string;
  fileContentType?: string;
  file: Readable;
}

/**
 * The form's boundary. RFC 2046 allows 1 to 70 characters; a longer one is refused, since every search for
 * it costs up to its length per byte of the upload (Buffer.indexOf has no linear-time guarantee).
 */
export function boundaryOf(contentType: string | undefined): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const b = m?.[1] ?? m?.[2];
  if (!b || b.length > 70) throw new S3Error('MalformedPOSTRequest');
  return b;
}

function parsePartHeaders(text: string): { name: string; filename?: string; contentType?: string } {
  let name: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const h = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    if (h === 'content-disposition') {
      name = /\bname="([^"]*)"/i.exec(v)?.[1] ?? /\bname=([^;\s]+)/i.exec(v)?.[1];
      filename = /\bfilename="([^"]*)"/i.exec(v)?.[1];
    } else if (h === 'content-type') {
      contentType = v;
    }
  }
  // A part without a name (or with an empty one) is not form data S3 can read.
  if (name === undefined || name === '') throw new S3Error('MalformedPOSTRequest');
  return { name, filename, contentType };
}

/** Reads the form up to the file part; the returned `file` stream continues reading the request. */
export async function readForm(body: AsyncIterable<Buffer>, boundary: string): Promise<FormUpload> {
  const it = body[Symbol.asyncIterator]();
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // A leading CRLF lets the first boundary match the same delimiter as the others.
  let buf: Buffer = Buffer.from('\r\n');
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const r = await it.next();
    if (r.done) {
      done = true;
      return false;
    }
    buf = buf.length ? Buffer.concat([buf, r.value]) : r.value;
    return true;
  };
  const until = async (needle: Buffer, limit: number): Promise<number> => {
    // Each new piece is searched once (with the needle's length of overlap), not the whole buffer again.
    for (let from = 0; ; ) {
      const i = buf.indexOf(needle, from);
      if (i >= 0) return i;
      from = Math.max(0, buf.length - needle.length + 1);
      if (buf.length > limit) throw new S3Error('MalformedPOSTRequest', 'A form field is too large.');
      if (!(await more())) throw new S3Error('MalformedPOSTRequest');
    }
  };

  const fields = new Map<string, string>();
  let total = 0;
  // Skip to the first boundary.
  let i = await until(delimiter, MAX_FIELD);
  buf = buf.subarray(i + delimiter.length);
  for (;;) {
    // After a boundary: "--" ends the form, CRLF starts a part.
    while (buf.length < 2) if (!(await more())) throw new S3Error('MalformedPOSTRequest');
    if (buf[0] === 0x2d && buf[1] === 0x2d)
      throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', {
        ArgumentName: 'file',
        ArgumentValue: '0',
      });
    const headerEnd = await until(Buffer.from('\r\n\r\n'), MAX_PART_HEADER);
    const part = parsePartHeaders(buf.subarray(2, headerEnd).toString('utf8'));
    buf = buf.subarray(headerEnd + 4);
    if (part.name.toLowerCase() === 'file') {
      const file = Readable.from(fileBytes(), { objectMode: false });
      return { fields, fileName: part.filename ?? '', fileContentType: part.contentType, file };
    }
    i = await until(delimiter, MAX_FIELD);
    const value = buf.subarray(0, i).toString('utf8');
    total += value.length;
    if (total > MAX_FIELDS_TOTAL) throw new S3Error('MalformedPOSTRequest', 'The form fields are too large.');
    fields.set(part.name.toLowerCase(), value);
    buf = buf.subarray(i + delimiter.length);
  }

  // The file's bytes up to the next delimiter, keeping back a possible partial delimiter at the end.
  async function* fileBytes(): AsyncGenerator<Buffer> {
    for (;;) {
      const j = buf.indexOf(delimiter);
      if (j >= 0) {
        if (j > 0) yield buf.subarray(0, j);
        // Drain the rest of the request (fields after the file are ignored).
        while (await more()) buf = Buffer.alloc(0);
        return;
      }
      const safe = buf.length - delimiter.length + 1;
      if (safe > 0) {
        const out = buf.subarray(0, safe);
        buf = buf.subarray(safe);
        yield out;
      }
      if (!(await more())) throw new S3Error('IncompleteBody', 'The form ended inside the file.');
    }
  }
}
