//! A strict reader of one JSON LINES line for S3 Select's line filter (select_json.rs): it checks that the line
//! is one JSON object and nothing else, and finds the value of the last top-level key equal to a name (JSON.parse
//! keeps the last of duplicates). Everything else is skipped while checked, without building any value. It refuses
//! every line serde_json refused, and a few more (safe: a refused line is kept for the reader to judge).
//!
//! Hand-written because serde_json, which read the lines before, spent half of this filter's instructions in its
//! string skipping and the UTF-8 check of every key (cachegrind over the bench's rows: 23.9 instructions a byte
//! for the whole filter then, 11.7 now). It accepts no more than serde_json did (json_scan_tests.rs compares the
//! two on random and edge-case lines), so no line JSON.parse would refuse is read:
//! - RFC 8259's grammar: whitespace is space, tab, CR, LF; numbers `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`;
//!   strings without raw control characters, escapes `\" \\ \/ \b \f \n \r \t \uXXXX`.
//! - Keys are UTF-8 (serde_json checked those of the record and of the field's object). Text in other values is
//!   not checked for UTF-8, as serde_json did not: the reader reads a bad sequence as U+FFFD, which never takes an
//!   ASCII byte with it, so a record's shape is the same. The field's own text is checked (it is compared).
//! - A key or the field's text holding an escape is unescaped by serde_json (rare; lone surrogates are refused).
//! - A number of 1e308 or more in the field is refused (serde_json refuses `1e400`, and some below the largest
//!   double).
//! - Nesting deeper than `MAX_DEPTH` levels is refused: the reader fails a record nested more than 1000 levels deep
//!   (formats/errors.ts MAX_JSON_DEPTH), and a line dropped here would hide that error. (serde_json had no limit on
//!   the values it skipped: such a line was dropped, and the query's error lost.)
use std::borrow::Cow;

/// Arrays and objects nested deeper than this (the record itself is level 1) are not read.
pub const MAX_DEPTH: usize = 128;

/// Numbers this large in the field are refused: serde_json refuses some of them (1.7976931348623158e308, which
/// JSON.parse reads as the largest double), and to stay within what it accepted costs nothing on real data.
const HUGE: f64 = 1e308;

/// The value of the field in one line's record.
#[derive(Debug, PartialEq)]
pub enum Field<'a> {
    /// No top-level key equals the name.
    Missing,
    /// A JSON number (finite).
    Number(f64),
    /// A JSON string, unescaped.
    Text(Cow<'a, str>),
    /// null, true, false, an array or an object.
    Other,
}

/// `last_field_at` of a line alone (the tests' shorthand).
#[cfg(test)]
pub fn last_field<'a>(line: &'a [u8], name: &[u8]) -> Option<Field<'a>> {
    last_field_at(line, line.len(), name)
}

/// The value of the last top-level key equal to `name` in the line `wide[..len]`, or None when the line is not
/// exactly one JSON object (surrounding whitespace allowed) that this reader accepts. `wide` may go on past the
/// line with its `\n` and more (the rest of a chunk): strings are then read a block at a time up to the line's end.
pub fn last_field_at<'a>(wide: &'a [u8], len: usize, name: &[u8]) -> Option<Field<'a>> {
    let line = &wide[..len];
    let wide = if wide.get(len).is_none_or(|&c| c == b'\n') { wide } else { line };
    let mut r = Reader { s: line, wide, i: 0 };
    r.space();
    r.expect(b'{')?;
    r.space();
    let mut field = Field::Missing;
    if r.peek()? == b'}' {
        r.i += 1;
    } else {
        loop {
            // Every value of the name is read (checked as serde_json checked them), the last one kept.
            if r.key_is(name)? {
                field = r.field_value()?;
            } else {
                r.skip()?;
            }
            r.space_then(b',')?;
            match r.peek()? {
                b',' => {
                    r.i += 1;
                    r.space();
                }
                b'}' => {
                    r.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    r.space();
    (r.i == line.len()).then_some(field)
}

/// Bytes read at once when a string is skipped.
#[cfg(target_arch = "x86_64")]
const BLOCK: usize = 16;
#[cfg(not(target_arch = "x86_64"))]
const BLOCK: usize = 8;

/// In a block of a string's body: how many bytes come before the first `"`, `\` or control character (BLOCK if
/// none), and whether one of those is >= 0x80. SSE2 (every x86_64 has it).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block(b: &[u8; BLOCK]) -> (usize, bool) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86_64 (every such CPU runs it); the unaligned load reads the 16 bytes of `b`.
    unsafe {
        let v = _mm_loadu_si128(b.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let special = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32;
        let n = (special | 1 << BLOCK).trailing_zeros();
        (n as usize, _mm_movemask_epi8(v) as u32 & ((1 << n) - 1) != 0)
    }
}

/// The same eight bytes at a time in a u64 (SWAR): a byte's high bit flags it; only the lowest flag is certain (a
/// borrow can flag bytes above it), which is the one used.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn block(b: &[u8; BLOCK]) -> (usize, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let w = u64::from_le_bytes(*b);
    let q = w ^ (ONES * b'"' as u64);
    let e = w ^ (ONES * b'\\' as u64);
    let special =
        ((q.wrapping_sub(ONES) & !q) | (e.wrapping_sub(ONES) & !e) | (w.wrapping_sub(ONES * 0x20) & !w)) & HIGHS;
    let n = special.trailing_zeros() as usize / 8;
    let before = if n == BLOCK { !0 } else { (1u64 << (8 * n)) - 1 };
    (n, w & before & HIGHS != 0)
}

/// A string's body: where it ends (its closing quote) and what it holds.
struct Body {
    end: usize,
    escaped: bool,
    /// Some byte is >= 0x80 (UTF-8 to check).
    high: bool,
}

struct Reader<'a> {
    /// The line.
    s: &'a [u8],
    /// The line and what follows it, for reading strings a block at a time: `s`, or `s` and its `\n` and more.
    wide: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline(always)]
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Skips spaces unless `c` is next (most lines have no spaces between tokens).
    #[inline(always)]
    fn space_then(&mut self, c: u8) -> Option<()> {
        if self.peek()? != c {
            self.space();
        }
        Some(())
    }

    #[inline(always)]
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.peek() {
            self.i += 1;
        }
    }

    /// Reads a string's body (self.i just past its opening quote) up to and past its closing quote; `HIGH`: notes
    /// whether a byte is >= 0x80 (for keys: values need not know).
    #[inline(always)]
    fn string<const HIGH: bool>(&mut self) -> Option<Body> {
        let s = self.s;
        let mut i = self.i;
        let mut escaped = false;
        let mut high = false;
        loop {
            // A block at a time to the first quote, backslash or control character. Blocks may run past the line
            // into `wide`, whose next byte is its `\n`, a control character: nothing past it is taken.
            let c = if let Some(b) = self.wide.get(i..i + BLOCK) {
                let b: &[u8; BLOCK] = b.try_into().unwrap();
                let (n, h) = block(b);
                if HIGH {
                    high |= h;
                }
                i += n;
                if n == BLOCK {
                    continue;
                }
                if i >= s.len() {
                    return None; // the line's end (its `\n`), inside a string
                }
                b[n]
            } else {
                // The last bytes of the chunk.
                loop {
                    let c = *s.get(i)?;
                    if c == b'"' || c == b'\\' || c < 0x20 {
                        break c;
                    }
                    if HIGH {
                        high |= c >= 0x80;
                    }
                    i += 1;
                }
            };
            match c {
                b'"' => {
                    self.i = i + 1;
                    return Some(Body { end: i, escaped, high });
                }
                b'\\' => {
                    escaped = true;
                    i += match *s.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' if s.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => 6,
                        _ => return None,
                    };
                }
                _ => return None, // a raw control character
            }
        }
    }

    /// A string with escapes, quotes included, unescaped by serde_json (None if it refuses it).
    fn unescape(quoted: &[u8]) -> Option<String> {
        serde_json::from_slice::<String>(quoted).ok()
    }

    /// Reads `"key"` `:` and the spaces after it; whether the key equals `name` once unescaped. Keys must be UTF-8.
    #[inline(always)]
    fn key_is(&mut self, name: &[u8]) -> Option<bool> {
        self.expect(b'"')?;
        let start = self.i;
        let body = self.string::<true>()?;
        let key = &self.s[start..body.end];
        let hit = if body.escaped {
            Self::unescape(&self.s[start - 1..=body.end])?.as_bytes() == name
        } else if key == name {
            true
        } else {
            if body.high {
                std::str::from_utf8(key).ok()?;
            }
            false
        };
        self.space_then(b':')?;
        self.expect(b':')?;
        self.space();
        Some(hit)
    }

    /// Reads `"key"` `:` and the spaces after it, for a key of an inner object: checked as a top-level key is
    /// (serde_json checked those of the field's own object so, and none of the others: stricter is safe).
    #[inline(always)]
    fn inner_key(&mut self) -> Option<()> {
        self.key_is(b"").map(drop)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` from self.i.
    #[inline(always)]
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    #[inline(always)]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    #[inline(always)]
    fn word(&mut self, w: &[u8]) -> Option<()> {
        (self.s.get(self.i..self.i + w.len())? == w).then(|| self.i += w.len())
    }

    /// The field's value, read.
    fn field_value(&mut self) -> Option<Field<'a>> {
        let start = self.i;
        match self.peek()? {
            b'"' => {
                self.i += 1;
                let body = self.string::<false>()?;
                if body.escaped {
                    return Some(Field::Text(Cow::Owned(Self::unescape(&self.s[start..=body.end])?)));
                }
                let text = std::str::from_utf8(&self.s[start + 1..body.end]).ok()?;
                Some(Field::Text(Cow::Borrowed(text)))
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
                let text = &self.s[start..self.i];
                // Up to 15 digits: exact as a double, read here (most fields); else Rust's parser (the grammar
                // checked is a subset of its syntax).
                let (minus, digits) = match text {
                    [b'-', rest @ ..] => (true, rest),
                    _ => (false, text),
                };
                if digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) {
                    let v = digits.iter().fold(0u64, |v, &d| v * 10 + (d - b'0') as u64) as f64;
                    return Some(Field::Number(if minus { -v } else { v }));
                }
                let v: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
                (v.abs() < HUGE).then_some(Field::Number(v))
            }
            _ => self.value().map(|()| Field::Other),
        }
    }

    /// Skips one value (self.i at its first byte), checking it: strings and numbers here, the rest in `value`.
    #[inline(always)]
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.string::<false>().map(drop)
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => self.value(),
        }
    }

    /// Skips one value (self.i at its first byte), checking it, without recursion: `open` holds a bit per open
    /// array (0) or object (1), innermost lowest; `depth` counts them.
    fn value(&mut self) -> Option<()> {
        let mut open: u128 = 0;
        let mut depth = 0;
        loop {
            // A value starts here.
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    self.string::<false>()?;
                }
                c @ (b'{' | b'[') => {
                    self.i += 1;
                    self.space();
                    let object = c == b'{';
                    if self.peek()? == if object { b'}' } else { b']' } {
                        self.i += 1;
                    } else {
                        // The record is level 1 and this one is level depth + 2.
                        if depth + 2 > MAX_DEPTH {
                            return None;
                        }
                        open = open << 1 | object as u128;
                        depth += 1;
                        if object {
                            self.inner_key()?;
                        }
                        continue;
                    }
                }
                b't' => self.word(b"true")?,
                b'f' => self.word(b"false")?,
                b'n' => self.word(b"null")?,
                _ => self.number()?,
            }
            // A value ended: close what it ends, then a comma leads to the next.
            loop {
                if depth == 0 {
                    return Some(());
                }
                self.space();
                let object = open & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.space();
                        if object {
                            self.inner_key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.i += 1;
                open >>= 1;
                depth -= 1;
            }
        }
    }
}

#[cfg(test)]
#[path = "json_scan_tests.rs"]
mod tests;
