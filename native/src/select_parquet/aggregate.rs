//! Aggregates computed inside the scan (COUNT, SUM, AVG, MIN, MAX over a column, COUNT(*)) when WHERE is
//! absent or ran whole in the scan: no row reaches JS, one result per aggregate does. The semantics are the
//! evaluator's (select-engine src/exec/aggregates.ts): NULL and MISSING are skipped; SUM of INT is exact
//! (the evaluator's doubles lose digits past 2^53, this does not); FLOAT sums add in row order as the
//! evaluator does; DECIMAL sums are exact; AVG of INT and DECIMAL is finished in JS by the same DECIMAL
//! division; MIN and MAX over a NaN fail as the evaluator fails (IncorrectSqlFunctionArgumentType).
use std::cmp::Ordering;
use std::fmt::Write as _;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_buffer::i256;
use arrow_schema::DataType;

use super::bind::leaf_of;
use super::error::{ScanError, ScanResult};
use super::predicate::{js_cmp, value_reader, Kind, OwnedVal, Val};

#[derive(Clone, Copy, PartialEq)]
pub enum Func {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

pub struct Aggregate {
    func: Func,
    /// Field names down to the leaf (empty for COUNT(*)).
    names: Vec<String>,
    kind: Kind,
    /// Fraction digits of a time column's values.
    digits: u32,
    n: u64,
    int_sum: i128,
    float_sum: f64,
    dec_sum: i256,
    best: Option<OwnedVal>,
}

fn digits_of(t: &DataType) -> u32 {
    use arrow_schema::TimeUnit::*;
    match t {
        DataType::Timestamp(Microsecond, _) => 6,
        DataType::Timestamp(Nanosecond, _) => 9,
        _ => 3,
    }
}

impl Aggregate {
    /// None when this function over this kind of column is not computed here (the evaluator does it).
    pub fn new(func: Func, names: Vec<String>, t: Option<&DataType>) -> Option<Aggregate> {
        let (kind, digits) = match t {
            None => (Kind::Int, 3),
            Some(t) => (super::predicate::kind_of(t)?, digits_of(t)),
        };
        let ok = match func {
            Func::CountStar | Func::Count => true,
            Func::Sum | Func::Avg => matches!(kind, Kind::Int | Kind::Float | Kind::Decimal(_)),
            Func::Min | Func::Max => true,
        };
        ok.then_some(Aggregate {
            func,
            names,
            kind,
            digits,
            n: 0,
            int_sum: 0,
            float_sum: 0.0,
            dec_sum: i256::ZERO,
            best: None,
        })
    }

    pub fn func(&self) -> Func {
        self.func
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Over a top-level column (no struct on the way) or COUNT(*).
    pub fn top_level(&self) -> bool {
        self.names.len() <= 1
    }

    /// Adds `n` values counted elsewhere (from_stats.rs) and, for MIN and MAX, their best.
    pub fn add_exact(&mut self, n: u64, best: Option<Val>) -> ScanResult<()> {
        self.n += n;
        match best {
            Some(v) => self.keep_best(v),
            None => Ok(()),
        }
    }

    /// Adds the rows of one batch (the batch holds the leaf columns in projection order).
    pub fn add(&mut self, batch: &RecordBatch, column: usize) -> ScanResult<()> {
        if self.func == Func::CountStar {
            self.n += batch.num_rows() as u64;
            return Ok(());
        }
        let Some((a, outer)) = leaf_of(batch, column, &self.names) else {
            return Err(ScanError::parsing("An aggregated column is missing from a batch."));
        };
        let nulls = a.logical_nulls();
        let skip =
            |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(i)) || outer.as_ref().is_some_and(|n| n.is_null(i));
        let rows = a.len();
        if self.func == Func::Count {
            self.n += (0..rows).filter(|&i| !skip(i)).count() as u64;
            return Ok(());
        }
        let unreadable = || ScanError::parsing("Unreadable aggregate column.");
        // A dictionary array (a text column read so, for MIN or MAX): each distinct value the rows use is
        // compared once. Equal strings are one value, so which row a value came from does not matter.
        if let Some(d) = a.as_dictionary_opt::<Int32Type>() {
            if !matches!(self.func, Func::Min | Func::Max) {
                return Err(unreadable());
            }
            let mut used = vec![false; d.values().len()];
            let keys = d.keys().values();
            if nulls.as_ref().is_none_or(|n| n.null_count() == 0) && outer.is_none() {
                for &k in keys.iter() {
                    *used.get_mut(k as usize).ok_or_else(unreadable)? = true;
                }
                self.n += keys.len() as u64;
            } else {
                for (i, &k) in keys.iter().enumerate() {
                    if !skip(i) {
                        self.n += 1;
                        *used.get_mut(k as usize).ok_or_else(unreadable)? = true;
                    }
                }
            }
            let picks = (0..used.len()).filter(|&j| used[j]);
            // Text: the batch's best by JS string order, then one comparison with the best so far.
            if let (Kind::Str, Some(s)) = (self.kind, d.values().as_string_opt::<i32>()) {
                let best = best_text(s, picks, self.func == Func::Max);
                return best.map_or(Ok(()), |b| self.keep_best(Val::Str(b)));
            }
            let read = value_reader(self.kind, d.values().as_ref()).ok_or_else(unreadable)?;
            for j in picks {
                self.keep_best((read.get)(j))?;
            }
            return Ok(());
        }
        // SUM and AVG of a column without nulls: straight over the values, in row order as below.
        let no_nulls = nulls.as_ref().is_none_or(|n| n.null_count() == 0) && outer.is_none();
        if matches!(self.func, Func::Sum | Func::Avg) && no_nulls {
            match (self.kind, a.as_primitive_opt::<Int64Type>(), a.as_primitive_opt::<Float64Type>()) {
                (Kind::Int, Some(p), _) => {
                    // No i128 overflows within a block of 2^16 values of 64 bits: one check per block.
                    for block in p.values().chunks(1 << 16) {
                        let s: i128 = block.iter().map(|&x| x as i128).sum();
                        self.int_sum = self.int_sum.checked_add(s).ok_or_else(overflow)?;
                    }
                    self.n += rows as u64;
                    return Ok(());
                }
                (Kind::Float, _, Some(p)) => {
                    for &x in p.values().iter() {
                        self.float_sum += x;
                    }
                    self.n += rows as u64;
                    return Ok(());
                }
                _ => {}
            }
        }
        if matches!(self.func, Func::Min | Func::Max) {
            if let Some(done) = self.typed_best(a.as_ref(), &skip, no_nulls)? {
                self.n += done;
                return Ok(());
            }
        }
        let read = value_reader(self.kind, a.as_ref()).ok_or_else(unreadable)?;
        let is_sum = matches!(self.func, Func::Sum | Func::Avg);
        for i in 0..rows {
            if skip(i) {
                continue;
            }
            self.n += 1;
            let v = (read.get)(i);
            if is_sum {
                match (self.kind, &v) {
                    (Kind::Float, Val::Float(x)) => self.float_sum += x,
                    (Kind::Decimal(_), Val::Int(x)) => self.dec_sum = self.dec_sum.wrapping_add(i256::from_i128(*x)),
                    (_, Val::Int(x)) => self.int_sum = self.int_sum.checked_add(*x).ok_or_else(overflow)?,
                    _ => {}
                }
                continue;
            }
            self.keep_best(v)?;
        }
        Ok(())
    }

    /// MIN and MAX over the rows of a text, integer or double array, compared on the typed values (not per
    /// value through `Val`): the batch's best, then one `keep_best`. None when the array is of another type
    /// (or a double column holds a NaN: the per-value path raises what the evaluator raises); else the count
    /// of values seen.
    fn typed_best(&mut self, a: &dyn Array, skip: &dyn Fn(usize) -> bool, no_nulls: bool) -> ScanResult<Option<u64>> {
        let max = self.func == Func::Max;
        let rows = a.len();
        let kept = |i: &usize| no_nulls || !skip(*i);
        let n = if no_nulls { rows as u64 } else { (0..rows).filter(kept).count() as u64 };
        match self.kind {
            Kind::Str => {
                let Some(s) = a.as_string_opt::<i32>() else { return Ok(None) };
                if let Some(b) = best_text(s, (0..rows).filter(kept), max) {
                    self.keep_best(Val::Str(b))?;
                }
            }
            Kind::Int => {
                let best = if let Some(p) = a.as_primitive_opt::<Int64Type>() {
                    let v = p.values();
                    best_of((0..rows).filter(kept).map(|i| v[i] as i128), max)
                } else if let Some(p) = a.as_primitive_opt::<Int32Type>() {
                    let v = p.values();
                    best_of((0..rows).filter(kept).map(|i| v[i] as i128), max)
                } else {
                    return Ok(None);
                };
                if let Some(b) = best {
                    self.keep_best(Val::Int(b))?;
                }
            }
            Kind::Float => {
                let Some(p) = a.as_primitive_opt::<Float64Type>() else { return Ok(None) };
                let v = p.values();
                if (0..rows).filter(kept).any(|i| v[i].is_nan()) {
                    return Ok(None);
                }
                let pick = |b: f64, x: f64| if (max && x > b) || (!max && x < b) { x } else { b };
                if let Some(b) = (0..rows).filter(kept).map(|i| v[i]).reduce(pick) {
                    self.keep_best(Val::Float(b))?;
                }
            }
            _ => return Ok(None),
        }
        Ok(Some(n))
    }

    /// MIN and MAX: keeps `v` when it beats the best so far (the first of equal values stays).
    fn keep_best(&mut self, v: Val) -> ScanResult<()> {
        let is_min = self.func == Func::Min;
        let replace = match &self.best {
            None => true,
            Some(b) => {
                let c = v.compare(b).ok_or_else(|| ScanError {
                    code: "IncorrectSqlFunctionArgumentType",
                    message: format!("{} over values that cannot be compared", if is_min { "MIN" } else { "MAX" }),
                })?;
                if is_min {
                    c == Ordering::Less
                } else {
                    c == Ordering::Greater
                }
            }
        };
        if replace {
            self.best = Some(v.to_owned());
        }
        Ok(())
    }

    /// The result as JSON for the TS face: {"t": type, ...}.
    pub fn result_json(&self, out: &mut String) {
        let q = |s: &str| format!("\"{s}\"");
        match self.func {
            Func::CountStar | Func::Count => {
                let _ = write!(out, "{{\"t\":\"int\",\"v\":\"{}\"}}", self.n);
            }
            _ if self.n == 0 => out.push_str("{\"t\":\"null\"}"),
            Func::Sum | Func::Avg => {
                let avg = self.func == Func::Avg;
                match self.kind {
                    Kind::Float => {
                        let v = if avg { self.float_sum / self.n as f64 } else { self.float_sum };
                        let _ = write!(out, "{{\"t\":\"float\",\"v\":{}}}", float_json(v));
                    }
                    Kind::Decimal(s) => {
                        let _ = write!(
                            out,
                            "{{\"t\":\"{}\",\"v\":\"{}\",\"scale\":{s},\"n\":{}}}",
                            if avg { "avgdec" } else { "dec" },
                            self.dec_sum,
                            self.n
                        );
                    }
                    _ => {
                        let _ = write!(
                            out,
                            "{{\"t\":\"{}\",\"v\":\"{}\",\"scale\":0,\"n\":{}}}",
                            if avg { "avgdec" } else { "int" },
                            self.int_sum,
                            self.n
                        );
                    }
                }
            }
            Func::Min | Func::Max => match (&self.best, self.kind) {
                (Some(OwnedVal::Int(x)), Kind::Decimal(s)) => {
                    let _ = write!(out, "{{\"t\":\"dec\",\"v\":\"{x}\",\"scale\":{s}}}");
                }
                (Some(OwnedVal::Int(x)), Kind::Time) => {
                    let _ = write!(out, "{{\"t\":\"time\",\"v\":\"{x}\",\"digits\":{}}}", self.digits);
                }
                (Some(OwnedVal::Int(x)), _) => {
                    let _ = write!(out, "{{\"t\":\"int\",\"v\":\"{x}\"}}");
                }
                (Some(OwnedVal::Float(x)), _) => {
                    let _ = write!(out, "{{\"t\":\"float\",\"v\":{}}}", float_json(*x));
                }
                (Some(OwnedVal::Bool(b)), _) => {
                    let _ = write!(out, "{{\"t\":\"bool\",\"v\":{b}}}");
                }
                (Some(OwnedVal::Str(s)), _) => {
                    out.push_str("{\"t\":\"string\",\"v\":");
                    out.push_str(&serde_like_string(s));
                    out.push('}');
                }
                (None, _) => out.push_str(&format!("{{\"t\":{}}}", q("null"))),
            },
        }
    }
}

/// The least (or greatest) of totally ordered values; the first of equal ones stays.
fn best_of<T: Ord + Copy>(values: impl Iterator<Item = T>, max: bool) -> Option<T> {
    values.reduce(|b, x| if (max && x > b) || (!max && x < b) { x } else { b })
}

/// The least (or greatest) of the values `picks` of a string array in JS string order. Without a 4-byte UTF-8
/// sequence (lead byte 0xF0 and up) among the array's bytes, UTF-8 byte order is JS order (js_cmp): the values
/// then compare by their first 8 bytes as one big-endian number, and by bytes only when those are equal.
fn best_text(s: &arrow_array::StringArray, picks: impl Iterator<Item = usize>, max: bool) -> Option<&str> {
    let data = s.value_data();
    let want = if max { Ordering::Greater } else { Ordering::Less };
    if data.iter().copied().fold(0, u8::max) >= 0xf0 {
        let mut best: Option<&str> = None;
        for v in picks.map(|j| s.value(j)) {
            if best.is_none_or(|b| js_cmp(v, b) == want) {
                best = Some(v);
            }
        }
        return best;
    }
    let offsets = s.value_offsets();
    let span = |j: usize| (offsets[j] as usize, offsets[j + 1] as usize);
    let mut best: Option<(u64, usize)> = None;
    for j in picks {
        let (a, b) = span(j);
        let key = prefix_key(data, a, b);
        let better = match best {
            None => true,
            Some((k, i)) if k == key => {
                let (c, d) = span(i);
                data[a..b].cmp(&data[c..d]) == want
            }
            Some((k, _)) => (key > k) == max,
        };
        if better {
            best = Some((key, j));
        }
    }
    best.map(|(_, j)| s.value(j))
}

/// The first 8 bytes of `data[a..b]` as a big-endian number, zeros past the value's end: a greater key is a
/// greater value in byte order, an equal key decides nothing.
fn prefix_key(data: &[u8], a: usize, b: usize) -> u64 {
    let len = b - a;
    let word = if a + 8 <= data.len() {
        u64::from_be_bytes(data[a..a + 8].try_into().expect("8 bytes"))
    } else {
        let mut w = [0u8; 8];
        let n = (data.len() - a).min(8);
        w[..n].copy_from_slice(&data[a..a + n]);
        u64::from_be_bytes(w)
    };
    if len >= 8 {
        word
    } else {
        word & !(u64::MAX >> (8 * len))
    }
}

fn overflow() -> ScanError {
    ScanError { code: "IntegerOverflow", message: "SUM of integers overflows".into() }
}

/// A double as JSON, with the non-finite ones as strings the TS face reads back.
fn float_json(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        format!("\"{v}\"")
    }
}

fn serde_like_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::StringArray;

    /// The best by js_cmp, one value at a time (the first of equal values stays).
    fn slow<'a>(values: &[&'a str], max: bool) -> Option<&'a str> {
        let want = if max { Ordering::Greater } else { Ordering::Less };
        values.iter().copied().reduce(|b, v| if js_cmp(v, b) == want { v } else { b })
    }

    #[test]
    fn best_text_is_js_order_with_and_without_four_byte_characters() {
        // Pieces that share long prefixes, end inside the first 8 bytes, hold NULs, and (in the second round)
        // characters on both sides of the UTF-16 surrogate range.
        let plain = ["a", "b", "\0", "prefix-1", "é", "\u{E000}", "\u{FFFD}", "9", ""];
        let wide = ["\u{1F600}", "\u{10000}", "\u{FFFD}", "a"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..400 {
            let alphabet: Vec<&str> = if round % 2 == 0 { plain.to_vec() } else { [&plain[..], &wide[..]].concat() };
            let values: Vec<String> = (0..1 + next(40))
                .map(|_| (0..next(6)).map(|_| alphabet[next(alphabet.len())]).collect::<String>())
                .collect();
            let array = StringArray::from(values.clone());
            let refs: Vec<&str> = values.iter().map(|s| s.as_str()).collect();
            // Every value, and a subset (as the dictionary path picks the entries its rows use).
            let picks: Vec<usize> = (0..values.len()).filter(|_| next(3) > 0).collect();
            let picked: Vec<&str> = picks.iter().map(|&j| refs[j]).collect();
            for max in [false, true] {
                assert_eq!(best_text(&array, 0..values.len(), max), slow(&refs, max), "{values:?} max {max}");
                assert_eq!(best_text(&array, picks.iter().copied(), max), slow(&picked, max), "{values:?}");
                // A slice of the array: its offsets point into the whole buffer.
                let sliced = array.slice(1.min(values.len() - 1), values.len() - 1.min(values.len() - 1));
                let want: Vec<&str> = (0..sliced.len()).map(|i| sliced.value(i)).collect();
                assert_eq!(best_text(&sliced, 0..sliced.len(), max), slow(&want, max));
            }
        }
    }

    #[test]
    fn prefix_keys_order_as_bytes_do() {
        let data = b"abcdefghij\0\0xyz";
        assert_eq!(prefix_key(data, 0, 0), 0);
        assert_eq!(prefix_key(data, 0, 1), u64::from_be_bytes(*b"a\0\0\0\0\0\0\0"));
        assert_eq!(prefix_key(data, 0, 10), u64::from_be_bytes(*b"abcdefgh"));
        // Near the end of the buffer: fewer than 8 bytes to load.
        assert_eq!(prefix_key(data, 12, 15), u64::from_be_bytes(*b"xyz\0\0\0\0\0"));
        // "a" and "a\0" share a key: only the byte compare tells them apart.
        assert_eq!(prefix_key(b"a\0", 0, 1), prefix_key(b"a\0", 0, 2));
    }
}
