// The CSV record splitter: text in, string[] records out. It works on decoded JS strings with
// String.indexOf, which V8 runs as a vectorised intrinsic, so the common case (a record without quotes)
// costs one indexOf for the record end plus one per needed field; fields after the last needed one are
// never looked at. Quoted records take a slower, still indexOf-driven path. Any dialect resolveDialect
// accepts runs here (multi-character delimiters included), so no second parser is needed.

import type { CsvDialect } from './dialect.js';
import { MAX_RECORD_BYTES, scanError, overMaxRecordSize } from '../errors.js';

/** Which fields to decode: positions (0-based) below `count`; `need[i]` false leaves field i as ''. */
export interface FieldSelection {
  count: number;
  need: boolean[] | null;
}

export const ALL_FIELDS: FieldSelection = { count: Infinity, need: null };

/** Returned by parseQuoted when the record continues past the text at hand. */
const NEED_MORE = -1;

export class CsvSplitter {
  private readonly fdLen: number;
  private readonly rdLen: number;
  private readonly qCode: number;
  /** Set by split(): it stopped because it had processed `max` records (complete ones may follow). */
  stoppedAtMax = false;
  /**
   * The first quote at or after `quoteFrom` in `quoteText` (-1: none), kept between calls: a text split a few
   * records per call (see recordsPerBatch) is then searched for quotes once, not once per call (quadratic).
   */
  private quoteText = '';
  private quoteFrom = 0;
  private quoteAt = -1;

  constructor(private readonly d: CsvDialect) {
    this.fdLen = d.fd.length;
    this.rdLen = d.rd.length;
    this.qCode = d.q === '' ? -1 : d.q.charCodeAt(0);
  }

  /**
   * Splits records out of s starting at `from`, processing at most `max` records and pushing at most `outMax`
   * into `out`. Returns the position after the last complete record; the caller keeps the rest for the next
   * call. When `final` is true the text is the end of the input and a last record without delimiter is complete.
   */
  split(
    s: string,
    from: number,
    final: boolean,
    out: string[][],
    max: number,
    sel: FieldSelection,
    filter?: (rec: string[]) => boolean,
    filterSel: FieldSelection = sel,
    outMax = Infinity,
  ): number {
    const { rd, q, stripCr, comment } = this.d;
    const { rdLen } = this;
    const n = s.length;
    let pos = from;
    let qFrom = pos;
    let nextQ = -1;
    if (q !== '') {
      const known = s === this.quoteText && pos >= this.quoteFrom && (this.quoteAt === -1 || this.quoteAt >= pos);
      if (known) {
        qFrom = this.quoteFrom;
        nextQ = this.quoteAt;
      } else nextQ = s.indexOf(q, pos);
    }
    let produced = 0;
    this.stoppedAtMax = false;
    // `outMax` counts records put out (those passing the filter): a scan under LIMIT stops right after the
    // record that reaches it, and the filter never sees a record after that one.
    const until = out.length + outMax;
    const probe: string[] = [];
    while (pos < n && produced < max && out.length < until) {
      let eol = s.indexOf(rd, pos);
      if (eol < 0) {
        if (!final) break;
        eol = n;
      }
      let recEnd = eol;
      if (stripCr && recEnd > pos && s.charCodeAt(recEnd - 1) === 13) recEnd--;
      if (recEnd - pos > MAX_RECORD_BYTES / 4 && Buffer.byteLength(s.slice(pos, recEnd)) > MAX_RECORD_BYTES) {
        throw overMaxRecordSize();
      }
      if (recEnd === pos || s.charCodeAt(pos) === comment) {
        // Empty line or comment line: skipped whatever it holds.
        pos = eol + rdLen;
        continue;
      }
      if (this.d.ceph) {
        // Ceph's quoting: every record goes through one character loop (linear in the record).
        const rec = this.cephFields(s, pos, recEnd);
        if (filter === undefined || filter(rec)) out.push(rec);
        pos = eol + rdLen;
        produced++;
        continue;
      }
      if (nextQ !== -1 && nextQ < pos) nextQ = s.indexOf(q, (qFrom = pos));
      if (nextQ === -1 || nextQ >= recEnd) {
        // No quote in this record: fields are plain slices. With a filter, decode what it reads first.
        if (filter === undefined) {
          out.push(this.plainFields(s, pos, recEnd, sel, []));
        } else if (filterSel === sel) {
          const rec = this.plainFields(s, pos, recEnd, sel, []);
          if (filter(rec)) out.push(rec);
        } else {
          // The probe array is reused: a filter is a predicate and keeps no reference to its argument.
          if (filter(this.plainFields(s, pos, recEnd, filterSel, probe)))
            out.push(this.plainFields(s, pos, recEnd, sel, []));
        }
        pos = eol + rdLen;
      } else {
        const rec: string[] = [];
        const next = this.parseQuoted(s, pos, this.d.allowQuotedRd ? n : recEnd, eol, final, rec);
        if (next === NEED_MORE) break;
        if (filter === undefined || filter(rec)) out.push(rec);
        pos = next;
      }
      produced++;
    }
    this.stoppedAtMax = produced >= max || out.length >= until;
    if (q !== '') {
      this.quoteText = s;
      this.quoteFrom = qFrom;
      this.quoteAt = nextQ;
    }
    return Math.min(pos, n);
  }

  /**
   * The fields of s[start, end) read as Ceph reads CSV: a quote toggles quoting anywhere in a field and is
   * dropped; the escape character (when it is not the quote) keeps the next character, dropping itself; with
   * the quote as its own escape, a doubled quote inside quotes is one quote. The record delimiter always ends
   * the record. One pass over the characters.
   */
  private cephFields(s: string, start: number, end: number): string[] {
    const { fd, q, esc } = this.d;
    const fd0 = fd.charCodeAt(0);
    const qCode = this.qCode;
    // esc is '' only when q is too: the dialect defaults it to the quote.
    const escCode = esc === q ? -1 : esc.charCodeAt(0);
    const rec: string[] = [];
    let value = '';
    let from = start;
    let quoted = false;
    let i = start;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === escCode && i + 1 < end) {
        value += s.slice(from, i) + s[i + 1];
        i += 2;
        from = i;
      } else if (c === qCode) {
        value += s.slice(from, i);
        if (quoted && escCode === -1 && s.charCodeAt(i + 1) === qCode && i + 1 < end) {
          value += q;
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
        from = i;
      } else if (!quoted && c === fd0 && s.startsWith(fd, i)) {
        rec.push(value + s.slice(from, i));
        value = '';
        i += this.fdLen;
        from = i;
      } else i++;
    }
    rec.push(value + s.slice(from, end));
    return rec;
  }

  /** The fields of an unquoted record s[start, end) that `sel` asks for. */
  private plainFields(s: string, start: number, end: number, sel: FieldSelection, rec: string[]): string[] {
    if (sel.count === Infinity) return s.slice(start, end).split(this.d.fd);
    const { fd } = this.d;
    const need = sel.need!; // null only in ALL_FIELDS (count Infinity, answered above)
    let p = start;
    let i = 0;
    // Written by index (not push) so a reused array keeps its shape; trimmed only after a short record.
    while (i < sel.count) {
      let dl = s.indexOf(fd, p);
      if (dl < 0 || dl > end) dl = end;
      rec[i++] = need[i - 1] ? s.slice(p, dl) : '';
      if (dl === end) break;
      p = dl + this.fdLen;
    }
    if (rec.length !== i) rec.length = i;
    return rec;
  }

  /**
   * Parses one record that contains a quote character, from `start`. `limit` is where the record must end
   * (the delimiter position when quoted delimiters are not allowed, else the end of the text); `eol` is the
   * delimiter found by the caller. Returns the position after the record, or NEED_MORE.
   */
  private parseQuoted(s: string, start: number, limit: number, eol: number, final: boolean, rec: string[]): number {
    const { fd, rd, q, esc, stripCr, allowQuotedRd } = this.d;
    const { fdLen, rdLen, qCode } = this;
    const n = s.length;
    let p = start;
    for (;;) {
      if (s.charCodeAt(p) === qCode) {
        // Quoted field: collect text up to the closing quote, unescaping escaped quotes.
        let value = '';
        let i = p + 1;
        for (;;) {
          let nq = s.indexOf(q, i);
          if (nq >= limit) nq = -1;
          // An escape before the closing quote keeps the next character (that quote, maybe). With no closing
          // quote (nq < 0) the field fails or waits for more text below, whatever escapes it holds.
          if (esc !== q && nq >= 0) {
            const ne = s.indexOf(esc, i);
            if (ne >= 0 && ne < nq) {
              const c = s[ne + 1];
              value += s.slice(i, ne) + (c === q || c === esc ? c : esc + c);
              i = ne + 2;
              continue;
            }
          }
          if (nq < 0) {
            if (!final && allowQuotedRd) return NEED_MORE;
            if (allowQuotedRd)
              throw scanError('CSVParsingError', 'A quoted field is not closed before the end of the input.');
            throw scanError('CSVEscapingRecordDelimiter');
          }
          if (esc === q && nq + 1 < limit && s.charCodeAt(nq + 1) === qCode) {
            value += s.slice(i, nq + 1);
            i = nq + 2;
            continue;
          }
          value += s.slice(i, nq);
          p = nq + 1;
          break;
        }
        rec.push(value);
        // After the closing quote: a field delimiter, the record end, or a broken record.
        if (s.startsWith(fd, p)) {
          p += fdLen;
          continue;
        }
        if (p >= n) {
          if (!final) return NEED_MORE; // more text may hold a doubled quote or a delimiter
          return n;
        }
        if (stripCr && s.charCodeAt(p) === 13 && (p + 1 === n ? final : s.startsWith(rd, p + 1))) {
          return p + 1 + rdLen;
        }
        if (s.startsWith(rd, p)) return p + rdLen;
        if (!final && rd.length === 2 && p + 1 === n) return NEED_MORE;
        throw scanError('CSVParsingError', `Unexpected character after a closing quote at record offset ${p - start}.`);
      }
      // Unquoted field: ends at the next field delimiter or at the record end.
      let recordEnd: number;
      if (allowQuotedRd) {
        recordEnd = s.indexOf(rd, p);
        if (recordEnd < 0) {
          if (!final) return NEED_MORE;
          recordEnd = n;
        }
      } else {
        recordEnd = eol;
      }
      let fieldEnd = recordEnd;
      if (stripCr && fieldEnd > p && s.charCodeAt(fieldEnd - 1) === 13) fieldEnd--;
      const dl = s.indexOf(fd, p);
      if (dl >= 0 && dl < fieldEnd) {
        rec.push(s.slice(p, dl));
        p = dl + fdLen;
        continue;
      }
      rec.push(s.slice(p, fieldEnd));
      return recordEnd + rdLen;
    }
  }
}
