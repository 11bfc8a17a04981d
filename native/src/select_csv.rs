//! S3 Select's CSV line filter: drops the lines of a CSV chunk where WHERE's first conjunct, `CAST(field AS
//! INT) op integer`, is certainly false, so that JavaScript decodes and evaluates only the others (a 1% filter
//! leaves ~1% of the bytes). The evaluator runs WHERE's AND chain left to right and stops at the first false,
//! so a line dropped here is one it would reject without reaching anything after that conjunct. Every line
//! whose answer is not certain is kept for the evaluator to judge (and to raise the error it raises): a line
//! holding the quote character anywhere (quoting changes where fields lie, and a bad quote is an error), a
//! line too short to have the field (MISSING), a field that is not `[+-]?` and 1 to 15 digits (spaces, an
//! empty field, `1e3`, `\r`: CAST decides), a line longer than `MAX_LINE` (the record-size limit's error).
//! Only one-byte ASCII delimiters and quote come here (the caller checks), so a delimiter byte is never
//! inside a UTF-8 sequence. Comment and empty lines are kept (the reader skips them).
use memchr::{memchr, memchr_iter};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Lines longer than this are kept whatever they hold (the reader's record-size check sees them).
const MAX_LINE: usize = 256 * 1024;

#[derive(Clone, Copy)]
pub struct LineTest {
    field: usize,
    fd: u8,
    rd: u8,
    quote: Option<u8>,
    op: u32,
    bound: i64,
}

impl LineTest {
    fn new(field: u32, fd: u32, rd: u32, quote: i32, op: u32, bound: f64) -> Result<LineTest> {
        let ascii = |c: u32| c < 128;
        let safe = bound.fract() == 0.0 && bound.abs() <= 9_007_199_254_740_991.0;
        if !ascii(fd) || !ascii(rd) || fd == rd || quote >= 128 || op > 5 || !safe {
            return Err(Error::new(Status::InvalidArg, "csv line test: bad delimiters, operator or bound"));
        }
        let quote = (quote >= 0).then_some(quote as u8);
        Ok(LineTest { field: field as usize, fd: fd as u8, rd: rd as u8, quote, op, bound: bound as i64 })
    }

    /// False only when the field is an integer for which `value op bound` is false.
    fn keep(&self, line: &[u8]) -> bool {
        if line.len() > MAX_LINE {
            return true;
        }
        let mut start = 0;
        for _ in 0..self.field {
            match memchr(self.fd, &line[start..]) {
                Some(i) => start += i + 1,
                None => return true,
            }
        }
        let end = memchr(self.fd, &line[start..]).map_or(line.len(), |i| start + i);
        match parse_int(&line[start..end]) {
            None => true,
            Some(v) => match self.op {
                0 => v == self.bound,
                1 => v != self.bound,
                2 => v < self.bound,
                3 => v <= self.bound,
                4 => v > self.bound,
                _ => v >= self.bound,
            },
        }
    }
}

/// `[+-]?[0-9]{1,15}` as an integer (15 digits stay exact as a double, as JavaScript reads them).
fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(if neg { -v } else { v })
}

/// The lines of `chunk` kept by `test`, each with its delimiter; bytes after the last delimiter count as a line.
pub fn filter_lines(chunk: &[u8], test: LineTest) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len() / 16);
    // Quotes are found in one pass over the chunk: `next_quote` is the first at or after the current line.
    let mut quotes = test.quote.map(|q| memchr_iter(q, chunk));
    let mut next_quote = quotes.as_mut().and_then(|it| it.next()).unwrap_or(usize::MAX);
    let mut start = 0;
    // The line is chunk[start..end) without its delimiter, copied through `next` (after the delimiter).
    let mut take = |start: usize, end: usize, next: usize, next_quote: &mut usize| {
        while *next_quote < start {
            *next_quote = quotes.as_mut().and_then(|it| it.next()).unwrap_or(usize::MAX);
        }
        if *next_quote < end || test.keep(&chunk[start..end]) {
            out.extend_from_slice(&chunk[start..next]);
        }
    };
    for eol in memchr_iter(test.rd, chunk) {
        take(start, eol, eol + 1, &mut next_quote);
        start = eol + 1;
    }
    if start < chunk.len() {
        take(start, chunk.len(), chunk.len(), &mut next_quote);
    }
    out
}

sync_and_async! {
    /// The lines of `chunk` (CSV, one-byte ASCII delimiters) where `CAST(field AS INT) op bound` may hold, with
    /// their delimiters: a line is dropped only when its 0-based `field` is `[+-]?` and 1 to 15 digits, no quote
    /// character (`quote`, -1 for none) is in the line, and the comparison is false. `op`: 0 =, 1 <>, 2 <, 3 <=,
    /// 4 >, 5 >=; `bound` a safe integer.
    fn csv_int_filter / csv_int_filter_async via CsvIntFilterTask (
        chunk: &[u8] | Buffer, field: u32, field_delimiter: u32, record_delimiter: u32, quote: i32, op: u32,
        bound: f64,
    ) -> Vec<u8> as Buffer {
        let test: LineTest = LineTest::new(field, field_delimiter, record_delimiter, quote, op, bound)?;
        run filter_lines(chunk, test)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, field: u32, op: u32, bound: f64) -> String {
        let t = LineTest::new(field, b',' as u32, b'\n' as u32, b'"' as i32, op, bound).unwrap();
        String::from_utf8(filter_lines(text.as_bytes(), t)).unwrap()
    }

    #[test]
    fn drops_only_lines_certainly_false() {
        let text =
            "1,5\n2,2000\n3,-7\n4,+12\n5,\n6, 9\n7,1e3\n8\n9,\"2000\"\n10,2000,\"x\"\n11,2000\r\n#c,9999\n\n12,0999";
        // Kept: the passing ones (5, -7, +12, 0999), the uncertain ones (empty, space, 1e3, short, quoted, \r,
        // empty line); dropped: the plain 2000 and the comment line (whose field is false too: the reader would
        // skip it anyway).
        assert_eq!(
            run(text, 1, 2, 1000.0),
            "1,5\n3,-7\n4,+12\n5,\n6, 9\n7,1e3\n8\n9,\"2000\"\n10,2000,\"x\"\n11,2000\r\n\n12,0999"
        );
        assert_eq!(run("a,1\nb,2\nc,3", 1, 0, 2.0), "b,2\n");
        assert_eq!(run("a,1\nb,2\nc,3", 1, 1, 2.0), "a,1\nc,3");
        assert_eq!(run("1\n2\n3\n", 0, 5, 2.0), "2\n3\n");
        assert_eq!(run("1\n2\n3\n", 0, 4, 2.0), "3\n");
        assert_eq!(run("1\n2\n3\n", 0, 3, 2.0), "1\n2\n");
    }

    #[test]
    fn long_numbers_and_long_lines_are_kept() {
        assert_eq!(run("1234567890123456\n", 0, 2, 0.0), "1234567890123456\n");
        assert_eq!(run("123456789012345\n", 0, 2, 0.0), "");
        let long = format!("{}\n", "9".repeat(MAX_LINE + 1));
        assert_eq!(run(&long, 0, 2, 0.0), long);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(LineTest::new(0, 200, 10, -1, 0, 1.0).is_err());
        assert!(LineTest::new(0, 44, 44, -1, 0, 1.0).is_err());
        assert!(LineTest::new(0, 44, 10, -1, 6, 1.0).is_err());
        assert!(LineTest::new(0, 44, 10, -1, 0, 0.5).is_err());
        assert!(LineTest::new(0, 44, 10, -1, 0, 1e300).is_err());
    }
}
