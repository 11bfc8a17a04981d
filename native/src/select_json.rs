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
    fn new(kind: u32, op: u32, bound: f64) -> Result<Spec> {
        if !matches!(kind, 1..=3) || (kind == 1 && (op > 5 || !bound.is_finite())) {
            return Err(Error::new(Status::InvalidArg, "json line test: bad kind, operator or bound"));
        }
        Ok(Spec { kind, op, bound })
    }
}

impl<'a> LineTest<'a> {
    /// The test of `spec` on the field `name`, with its text (UTF-8; unused by numbers).
    fn new(name: &'a [u8], spec: Spec, text: &'a [u8]) -> Result<Self> {
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
}
