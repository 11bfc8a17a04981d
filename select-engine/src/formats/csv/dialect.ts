// CSV InputSerialization as the request gives it, and the validated dialect the splitter runs on.

import { type SelectError, scanError } from '../errors.js';

/** The `<CSV>` element of InputSerialization (field names follow the AWS API, camel-cased). */
export interface CsvInputOptions {
  /** USE: first record is the header (names usable in SQL); IGNORE: skip it; NONE (default): it is data. */
  fileHeaderInfo?: 'USE' | 'IGNORE' | 'NONE';
  /** A record starting with this character is skipped. Default '#'; '' disables comments. */
  comments?: string;
  /** Escapes the quote character inside a quoted field. Default '"' (a doubled quote). */
  quoteEscapeCharacter?: string;
  /** One or two characters. Default '\n' (a '\r' before it is dropped, so '\r\n' files work). */
  recordDelimiter?: string;
  /** Default ','. */
  fieldDelimiter?: string;
  /** Default '"'; '' disables quoting. */
  quoteCharacter?: string;
  /** When false (default) the record delimiter always ends a record, even inside quotes. */
  allowQuotedRecordDelimiter?: boolean;
  /**
   * Not in the XML: set under the ceph dialect. Ceph's CSV reader removes a quote anywhere in a field (text
   * between two quotes is taken as it is, delimiters included) and the escape character makes the next
   * character literal anywhere, not only inside quotes.
   */
  cephQuoting?: boolean;
}

export interface CsvDialect {
  fd: string;
  rd: string;
  /** Quote character, '' when quoting is off. */
  q: string;
  /** Escape character for the quote inside quoted fields (equal to q for doubled quotes). */
  esc: string;
  /** Char code of the comment character, -1 when none. */
  comment: number;
  allowQuotedRd: boolean;
  /** Drop a '\r' before the delimiter (only for the default '\n'). */
  stripCr: boolean;
  header: 'USE' | 'IGNORE' | 'NONE';
  /** Ceph's quoting (CsvInputOptions.cephQuoting). */
  ceph: boolean;
}

function bad(message: string): SelectError {
  return scanError('InvalidRequestParameter', message);
}

export function resolveDialect(o: CsvInputOptions = {}): CsvDialect {
  const fd = o.fieldDelimiter ?? ',';
  const rd = o.recordDelimiter ?? '\n';
  const q = o.quoteCharacter ?? '"';
  const esc = o.quoteEscapeCharacter || q;
  const comments = o.comments ?? '#';
  const header = (o.fileHeaderInfo ?? 'NONE').toUpperCase();
  if (header !== 'USE' && header !== 'IGNORE' && header !== 'NONE') throw scanError('InvalidFileHeaderInfo');
  if (fd.length < 1 || fd.length > 2) throw bad('FieldDelimiter must be one or two characters');
  if (rd.length < 1 || rd.length > 2) throw bad('RecordDelimiter must be one or two characters');
  if (q.length > 1) throw bad('QuoteCharacter must be a single character');
  if (esc.length > 1) throw bad('QuoteEscapeCharacter must be a single character');
  if (comments.length > 1) throw bad('Comments must be a single character');
  if (fd === rd || (q !== '' && (fd.includes(q) || rd.includes(q))))
    throw bad('CSV delimiters and quote character must differ');
  return {
    fd,
    rd,
    q,
    esc,
    comment: comments === '' ? -1 : comments.charCodeAt(0),
    allowQuotedRd: o.allowQuotedRecordDelimiter === true,
    stripCr: rd === '\n',
    header,
    ceph: o.cephQuoting === true,
  };
}
