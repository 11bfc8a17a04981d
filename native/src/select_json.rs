//! S3 Select's JSON LINES line filter: drops the lines of a chunk where WHERE's first conjunct is certainly
//! false, so that JavaScript decodes and parses only the others (a 1% filter leaves ~1% of the bytes). The
//! conjunct is a top-level field compared with a number (`s.amount < 1000`), equal to a text (`s.color =
//! 'red'`) or LIKE a prefix (`s.name LIKE 'ab%'`). The evaluator runs WHERE's AND chain left to right and stops
//! at the first false, so a line dropped here is one it would reject without reaching anything after it.
//!
//! A line is judged only when json_scan.rs reads it as one JSON object and nothing else (strict RFC 8259; it refuses
//! whatever serde_json, which read the lines before, refused): any line it refuses (an error for the reader, a byte
//! order mark, an empty line, nesting over 128 levels) is kept. The field is judged only where the evaluator finds
//! it first (plan/bind.ts fieldGetter): the last key equal to the name once unescaped (JSON.parse keeps the last of
//! duplicates). A line without such a key is kept (the field is missing, or an unquoted name may match a key
//! ignoring case, Unicode's way in JavaScript). The line is dropped only when the field's value is a JSON number
//! failing the comparison by more than a 1e-9 relative margin (never for `<>`), or a JSON string not equal to the
//! text / not starting with the prefix. A missing field, null, true, false, an array or an object is kept (the
//! evaluator decides). Lines longer than `MAX_LINE` are kept (the record-size limit's error).
use crate::json_scan::{last_field_at, Field};
use memchr::memchr_iter;
use napi::bindgen_prelude::*;
use napi_derive::napi;
// The numeric test is CSV's (its NUMBER_MARGIN, the same operators).
use crate::select_csv::may_hold;

/// Lines longer than this are kept whatever they hold (the reader's record-size check sees them).
const MAX_LINE: usize = 256 * 1024;

/// What the field's value is tested with.
#[derive(Clone, Copy)]
enum Judge<'a> {
    /// `field op bound` (op 0 =, 1 <>, 2 <, 3 <=, 4 >, 5 >=).
    Number(u32, f64),
    /// `field = text`.
    Equal(&'a str),
    /// `field LIKE 'text%'`.
    Prefix(&'a str),
}

#[derive(Clone, Copy)]
pub struct LineTest<'a> {
    name: &'a str,
    judge: Judge<'a>,
}

/// The test's kind and numbers, checked before the task is queued (its texts are the task's Buffers).
#[derive(Clone, Copy)]
pub struct Spec {
    kind: u32,
    op: u32,
    bound: f64,
}

impl Spec {
    /// `kind`: 1 number comparison (`bound` finite, `op` 0..5), 2 text equality, 3 text prefix.
    pub(crate) fn new(kind: u32, op: u32, bound: f64) -> Result<Spec> {
        if !matches!(kind, 1..=3) || (kind == 1 && (op > 5 || !bound.is_finite())) {
            return Err(Error::new(Status::InvalidArg, "json line test: bad kind, operator or bound"));
        }
        Ok(Spec { kind, op, bound })
    }
}

impl<'a> LineTest<'a> {
    /// The test of `spec` on the field `name`, with its text (UTF-8; unused by numbers).
    pub(crate) fn new(name: &'a [u8], spec: Spec, text: &'a [u8]) -> Result<Self> {
        let bad = || Error::new(Status::InvalidArg, "json line test: name or text not UTF-8");
        let name = std::str::from_utf8(name).map_err(|_| bad())?;
        let text = std::str::from_utf8(text).map_err(|_| bad())?;
        let judge = match spec.kind {
            1 => Judge::Number(spec.op, spec.bound),
            2 => Judge::Equal(text),
            _ => Judge::Prefix(text),
        };
        Ok(LineTest { name, judge })
    }

    /// False only when the test is certainly false for the record of the line `rest[..len]` (`rest` goes on to the
    /// chunk's end).
    fn keep(&self, rest: &[u8], len: usize) -> bool {
        if len > MAX_LINE {
            return true;
        }
        match (last_field_at(rest, len, self.name.as_bytes()), self.judge) {
            (Some(Field::Number(v)), Judge::Number(op, bound)) => may_hold(op, v, bound),
            (Some(Field::Text(s)), Judge::Equal(text)) => s == text,
            (Some(Field::Text(s)), Judge::Prefix(text)) => s.starts_with(text),
            _ => true,
        }
    }
}

/// The lines of `chunk` kept by `test`, each with its `\n`; bytes after the last `\n` count as a line.
pub fn filter_lines(chunk: &[u8], test: LineTest) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len() / 16);
    filter_lines_into(chunk, test, &mut out);
    out
}

/// `filter_lines` over each piece in turn, the kept lines of all in one buffer, in order.
pub fn filter_pieces(pieces: &[&[u8]], test: LineTest) -> Vec<u8> {
    let mut out = Vec::with_capacity(pieces.iter().map(|p| p.len()).sum::<usize>() / 16);
    for piece in pieces {
        filter_lines_into(piece, test, &mut out);
    }
    out
}

/// `piece` (some of storage's bytes, lines going on in the pieces before and after it) with the complete lines
/// inside it filtered, as select_csv.rs `filter_piece_into`: its first line (to its first `\n`, with it) and the
/// bytes after its last `\n` go through as they are, as does a piece without one; the reader judges those.
pub(crate) fn filter_piece_into(piece: &[u8], test: LineTest, out: &mut Vec<u8>) {
    let (Some(first), Some(last)) = (memchr::memchr(b'\n', piece), memchr::memrchr(b'\n', piece)) else {
        out.extend_from_slice(piece);
        return;
    };
    out.extend_from_slice(&piece[..=first]);
    if last > first {
        filter_lines_into(&piece[first + 1..=last], test, out);
    }
    out.extend_from_slice(&piece[last + 1..]);
}

/// `filter_lines`, appending to `out`.
fn filter_lines_into(chunk: &[u8], test: LineTest, out: &mut Vec<u8>) {
    let mut start = 0;
    for eol in memchr_iter(b'\n', chunk) {
        if test.keep(&chunk[start..], eol - start) {
            out.extend_from_slice(&chunk[start..eol + 1]);
        }
        start = eol + 1;
    }
    if start < chunk.len() && test.keep(&chunk[start..], chunk.len() - start) {
        out.extend_from_slice(&chunk[start..]);
    }
}

sync_and_async! {
    /// The lines of `chunk` (JSON LINES) where a test of their record's top-level field `name` (UTF-8, the key
    /// as the line spells it) may hold, with their `\n`. `kind`: 1
    /// `field op bound` (a number; `op` 0 =, 1 <>, 2 <, 3 <=, 4 >, 5 >=), 2 `field = text`, 3 `field LIKE
    /// 'text%'`. A line that is not one JSON object is kept.
    fn json_line_filter / json_line_filter_async via JsonLineFilterTask (
        chunk: &[u8] | Buffer, name: &[u8] | Buffer, text: &[u8] | Buffer, kind: u32, op: u32, bound: f64,
    ) -> Vec<u8> as Buffer {
        let spec: Spec = Spec::new(kind, op, bound)?;
        run filter_lines(chunk, LineTest::new(name, spec, text)?)
    }
}

sync_and_async! {
    /// `jsonLineFilter` over each of `pieces` (each of complete lines) in turn, the kept lines of all in one
    /// Buffer, in order.
    fn json_line_filter_pieces / json_line_filter_pieces_async via JsonLinePiecesTask (
        pieces: Vec<&[u8]> | Vec<Buffer>, name: &[u8] | Buffer, text: &[u8] | Buffer, kind: u32, op: u32,
        bound: f64,
    ) -> Vec<u8> as Buffer {
        let spec: Spec = Spec::new(kind, op, bound)?;
        run {
            let views: Vec<&[u8]> = pieces.iter().map(|p| p.as_ref()).collect();
            filter_pieces(&views, LineTest::new(name, spec, text)?)
        }
    }
}

/// Digits a number may have before a double can no longer hold it exactly: every integer of 15 digits is below
/// 2^53, and every decimal of 15 significant digits survives a trip through a double.
pub const LONG_NUMBER: usize = 16;

fn is_number_byte(c: u8) -> bool {
    c.is_ascii_digit() || c == b'.'
}

/// Digits in `s` from `from` on while the bytes are digits or points; and where that run ends.
fn run_digits(s: &[u8], from: usize) -> (usize, usize) {
    let mut digits = 0;
    let mut j = from;
    while j < s.len() && is_number_byte(s[j]) {
        digits += usize::from(s[j] != b'.');
        j += 1;
    }
    (digits, j)
}

/// Whether `chunk` holds a run of digits (points allowed among them) with at least `LONG_NUMBER` digits, counting
/// the `carried` digits of the run that ended the chunk before it; `None` when it does, else the digits of the
/// run at its end (0 when its last byte is neither a digit nor a point), for the next chunk's `carried`.
///
/// JSON.parse reads such a number inexactly (AWS reads JSON through Ion, where integers and decimals keep every
/// digit): the reader re-reads only the records of the chunks where this finds one. Runs inside strings count
/// too (a record re-read for nothing reads the same). Every run of 16 bytes holds a byte at an index of the
/// form 16k + 15, so only those are looked at, and the run around one only when it is a digit or a point.
pub fn long_number_run(chunk: &[u8], carried: usize) -> Option<usize> {
    let n = chunk.len();
    let (lead, lead_end) = run_digits(chunk, 0);
    if carried + lead >= LONG_NUMBER {
        return None;
    }
    if lead_end == n {
        return Some(carried + lead);
    }
    let mut i = LONG_NUMBER - 1;
    while i < n {
        if is_number_byte(chunk[i]) {
            let mut start = i;
            while start > 0 && is_number_byte(chunk[start - 1]) {
                start -= 1;
            }
            let (digits, end) = run_digits(chunk, start);
            if digits >= LONG_NUMBER {
                return None;
            }
            // A longer run after `end` (a byte that is neither) spans the probe at end + 15.
            i = end + LONG_NUMBER - 1;
            continue;
        }
        i += LONG_NUMBER;
    }
    let mut start = n;
    while start > 0 && is_number_byte(chunk[start - 1]) {
        start -= 1;
    }
    Some(run_digits(chunk, start).0)
}

/// `long_number_run` for JavaScript: -1 when the chunk holds a run of 16 or more digits (with the `carried`
/// digits of the run that ended the chunk before it), else the digits of the run at its end. Synchronous: it
/// looks at one byte in 16 of most chunks (about 50 microseconds a MiB).
#[napi]
pub fn json_long_number_run(chunk: &[u8], carried: u32) -> i32 {
    match long_number_run(chunk, carried as usize) {
        None => -1,
        Some(tail) => tail.min(LONG_NUMBER) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, name: &str, kind: u32, op: u32, bound: f64, lit: &str) -> String {
        let t = LineTest::new(name.as_bytes(), Spec::new(kind, op, bound).unwrap(), lit.as_bytes()).unwrap();
        String::from_utf8(filter_lines(text.as_bytes(), t)).unwrap()
    }

    #[test]
    fn numbers_are_dropped_only_when_certainly_false() {
        let text = concat!(
            "{\"a\":5}\n{\"a\":2000}\n{\"a\":\"5\"}\n{\"a\":null}\n{\"b\":1}\n{\"a\":2000,\"a\":5}\n",
            "{\"a\":5,\"a\":2000}\n{\"a\":[1]}\n{\"a\":2000\n[{\"a\":2000}]\n{\"A\":2000}\n\n{\"a\":2.0e3}\n",
            "{\"\\u0061\":2000}\n{\"x\":{\"a\":1},\"a\":2000}\n{\"a\":2000} x\n\u{feff}{\"a\":2000}\n"
        );
        // Kept: 5, a string, null, a missing field, duplicates whose last passes, an array, a bad line, an array
        // record, a case-variant key, an empty line, a trailing word, a byte order mark.
        assert_eq!(
            run(text, "a", 1, 2, 1000.0, ""),
            concat!(
                "{\"a\":5}\n{\"a\":\"5\"}\n{\"a\":null}\n{\"b\":1}\n{\"a\":2000,\"a\":5}\n{\"a\":[1]}\n",
                "{\"a\":2000\n[{\"a\":2000}]\n{\"A\":2000}\n\n{\"a\":2000} x\n\u{feff}{\"a\":2000}\n"
            )
        );
        assert_eq!(run("{\"a\":1,\"A\":2000}\n", "A", 1, 2, 1000.0, ""), "");
        assert_eq!(run("{\"a\":1000.0000000001}\n{\"a\":1001}\n", "a", 1, 3, 1000.0, ""), "{\"a\":1000.0000000001}\n");
        assert_eq!(run("{\"a\":1}\n{\"a\":2}\n", "a", 1, 1, 1.0, ""), "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(run("{\"a\":1}\n{\"a\":2}", "a", 1, 0, 2.0, ""), "{\"a\":2}");
    }

    #[test]
    fn text_equality_and_prefix() {
        let text = "{\"c\":\"red\"}\n{\"c\":\"reddish\"}\n{\"c\":\"r\\u0065d\"}\n{\"c\":\"bl\u{e9}\"}\n{\"c\":1}\n";
        assert_eq!(run(text, "c", 2, 0, 0.0, "red"), "{\"c\":\"red\"}\n{\"c\":\"r\\u0065d\"}\n{\"c\":1}\n");
        assert_eq!(
            run(text, "c", 3, 0, 0.0, "red"),
            "{\"c\":\"red\"}\n{\"c\":\"reddish\"}\n{\"c\":\"r\\u0065d\"}\n{\"c\":1}\n"
        );
        assert_eq!(run(text, "c", 2, 0, 0.0, "bl\u{e9}"), "{\"c\":\"bl\u{e9}\"}\n{\"c\":1}\n");
        // A non-ASCII key may lower-case to the name in JavaScript (K, the Kelvin sign, is k).
        assert_eq!(run("{\"\u{212a}\":\"x\"}\n", "k", 2, 0, 0.0, "y"), "{\"\u{212a}\":\"x\"}\n");
    }

    #[test]
    fn long_lines_and_bad_bytes() {
        let long = format!("{{\"a\":2000,\"b\":\"{}\"}}\n", "x".repeat(MAX_LINE));
        assert_eq!(run(&long, "a", 1, 2, 0.0, ""), long);
        // A bad UTF-8 sequence in another field's text: the reader reads U+FFFD there, the same record, judged; in
        // the field's own text or in a key it is kept (serde_json refuses it there).
        let t = LineTest::new(b"a", Spec::new(1, 2, 0.0).unwrap(), b"").unwrap();
        assert_eq!(filter_lines(b"{\"a\":2000,\"b\":\"\xff\"}\n", t), b"");
        let kept = b"{\"\xff\":1,\"a\":2000}\n";
        assert_eq!(filter_lines(kept, t), kept.to_vec());
        let t = LineTest::new(b"a", Spec::new(2, 0, 0.0).unwrap(), b"x").unwrap();
        let kept = b"{\"a\":\"\xff\"}\n";
        assert_eq!(filter_lines(kept, t), kept.to_vec());
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(Spec::new(1, 6, 1.0).is_err());
        assert!(Spec::new(1, 0, f64::NAN).is_err());
        assert!(Spec::new(4, 0, 0.0).is_err());
        assert!(Spec::new(0, 0, 0.0).is_err());
        assert!(LineTest::new(b"\xff", Spec::new(2, 0, 0.0).unwrap(), b"").is_err());
        assert!(LineTest::new(b"a", Spec::new(3, 0, 0.0).unwrap(), b"\xff").is_err());
    }

    #[test]
    fn pieces_keep_what_each_piece_keeps_in_order() {
        let t = LineTest::new(b"a", Spec::new(1, 2, 10.0).unwrap(), b"").unwrap();
        let pieces: [&[u8]; 3] = [b"{\"a\":1}\n{\"a\":50}\n", b"not json\n", b"{\"a\":99}\n{\"a\":3}"];
        let want: Vec<u8> = pieces.iter().flat_map(|p| filter_lines(p, t)).collect();
        assert_eq!(want, b"{\"a\":1}\nnot json\n{\"a\":3}");
        assert_eq!(filter_pieces(&pieces, t), want);
    }
    #[test]
    fn long_number_runs_are_found_wherever_they_are() {
        // Every run of 16 digits, at every offset, in text of every length around it.
        for len in 16..40 {
            for at in 0..=(len - 16) {
                let mut s = vec![b'x'; len];
                s[at..at + 16].fill(b'7');
                assert_eq!(long_number_run(&s, 0), None, "len {len} at {at}");
                // 15 digits, or 16 bytes with a point among them, are not enough.
                s[at] = b'x';
                assert!(long_number_run(&s, 0).is_some(), "len {len} at {at}");
                s[at + 5] = b'.';
                s[at] = b'1';
                assert!(long_number_run(&s, 0).is_some(), "len {len} at {at} with a point");
            }
        }
        assert_eq!(long_number_run(b"{\"a\":9007199254740993}", 0), None);
        assert_eq!(long_number_run(b"{\"a\":0.1234567890123456}", 0), None);
        assert_eq!(long_number_run(b"{\"a\":1234567890.123456}", 0), None);
        assert_eq!(long_number_run(b"{\"a\":900719925474099}", 0), Some(0));
        assert_eq!(long_number_run(b"{\"ts\":\"2024-01-01T00:00:00.000Z\",\"n\":123}", 0), Some(0));
        assert_eq!(long_number_run(b"", 3), Some(3));
    }

    #[test]
    fn long_number_runs_across_chunks_count_the_carried_digits() {
        assert_eq!(long_number_run(b"{\"a\":90071992", 0), Some(8));
        assert_eq!(long_number_run(b"54740993}", 8), None);
        assert_eq!(long_number_run(b"5474099}", 8), Some(0));
        assert_eq!(long_number_run(b"123", 8), Some(11));
        assert_eq!(long_number_run(b"12345", 11), None);
        assert_eq!(json_long_number_run(b"1234567890123456789012", 0), -1);
        assert_eq!(json_long_number_run(b"{\"a\":123", 0), 3);
    }
}
