//! A decoded batch as one buffer of columns that the TS face reads with typed arrays: no napi call
//! per value. Layout (little-endian, sections 8-byte aligned):
//!
//! `[rows u32][columns u32]` then per column `[kind][nulls][a][b][param][len]` (u32 each), then the
//! sections the offsets point at. `nulls` (0 = none) is one byte per row, 1 for null. Kinds:
//!
//! | kind | a | b | param |
//! |---|---|---|---|
//! | NULL 0 | - | - | - |
//! | F64 1 | f64 per row | - | - |
//! | I64 2 | i64 per row | - | - |
//! | BOOL 3 | u8 per row | - | - |
//! | TEXT 4 | u32 offsets (rows + 1) into b | UTF-8 bytes | - |
//! | DEC64 5 | i64 unscaled per row | - | scale |
//! | DECTEXT 6 | offsets | unscaled digits | scale |
//! | TIME 7 | f64 epoch ms (floor) | u32 nanoseconds within the ms | fraction digits |
//! | JSON 8 | offsets | JSON text per row (lists, structs, maps) | - |
//! | BIGTEXT 9 | offsets | integer digits (UINT64 past 2^63) | - |
use std::fmt::Write as _;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;

use super::error::{ScanError, ScanResult};

const NULL: u32 = 0;
const F64: u32 = 1;
const I64: u32 = 2;
const BOOL: u32 = 3;
const TEXT: u32 = 4;
const DEC64: u32 = 5;
const DECTEXT: u32 = 6;
const TIME: u32 = 7;
const JSON: u32 = 8;
const BIGTEXT: u32 = 9;

const SAFE: i64 = (1 << 53) - 1;

struct Body {
    bytes: Vec<u8>,
}

impl Body {
    /// Appends a section (8-byte aligned); returns its offset within the body.
    fn section(&mut self, data: &[u8]) -> usize {
        while !self.bytes.len().is_multiple_of(8) {
            self.bytes.push(0);
        }
        let at = self.bytes.len();
        self.bytes.extend_from_slice(data);
        at
    }
}

/// Column descriptor: kind, nulls, a, b (body offsets, 0 = none), param, len.
type Desc = [u32; 6];

pub fn encode_batch(batch: &RecordBatch) -> ScanResult<Vec<u8>> {
    let rows = batch.num_rows();
    let cols = batch.num_columns();
    let header = (8 + cols * 24).next_multiple_of(8);
    // The body starts after the header; offsets are from the start of the whole buffer. Offset 0 is
    // never a section (the header is there), so it marks an absent one.
    let mut body = Body { bytes: Vec::new() };
    let mut descs: Vec<Desc> = Vec::with_capacity(cols);
    for c in batch.columns() {
        descs.push(encode_column(c, &mut body)?);
    }
    let total = header + body.bytes.len();
    let fits = |x: usize| u32::try_from(x).map_err(|_| ScanError::block_size("A batch of rows is larger than 4 GB."));
    fits(total)?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(rows as u32).to_le_bytes());
    out.extend_from_slice(&(cols as u32).to_le_bytes());
    for mut d in descs {
        for slot in [1, 2, 3] {
            if d[slot] != u32::MAX {
                d[slot] += header as u32;
            } else {
                d[slot] = 0;
            }
        }
        for v in d {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.resize(header, 0);
    out.extend_from_slice(&body.bytes);
    Ok(out)
}

fn le<T: Copy, const N: usize>(values: impl Iterator<Item = T>, to: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in values {
        v.extend_from_slice(&to(x));
    }
    v
}

fn nulls_section(a: &dyn Array, body: &mut Body) -> u32 {
    match a.logical_nulls() {
        Some(n) if n.null_count() > 0 => {
            let bytes: Vec<u8> = (0..a.len()).map(|i| n.is_null(i) as u8).collect();
            body.section(&bytes) as u32
        }
        _ => u32::MAX,
    }
}

/// Offsets and bytes of one text per row (empty for nulls).
fn texts(rows: usize, body: &mut Body, mut text: impl FnMut(usize, &mut String)) -> ScanResult<(u32, u32, u32)> {
    let mut offsets: Vec<u32> = Vec::with_capacity(rows + 1);
    let mut s = String::new();
    offsets.push(0);
    for i in 0..rows {
        text(i, &mut s);
        offsets
            .push(u32::try_from(s.len()).map_err(|_| ScanError::block_size("A batch of text is larger than 4 GB."))?);
    }
    let a = body.section(&le(offsets.into_iter(), u32::to_le_bytes)) as u32;
    let b = body.section(s.as_bytes()) as u32;
    Ok((a, b, s.len() as u32))
}

fn f64s(a: &dyn Array, body: &mut Body, get: impl Fn(usize) -> f64) -> u32 {
    body.section(&le((0..a.len()).map(get), f64::to_le_bytes)) as u32
}

macro_rules! as_f64 {
    ($a:expr, $body:expr, $($t:ty),*) => {
        $(if let Some(p) = $a.as_primitive_opt::<$t>() {
            return Ok([F64, nulls_section($a, $body), f64s($a, $body, |i| p.value(i) as f64), u32::MAX, 0, 0]);
        })*
    };
}

fn encode_column(a: &ArrayRef, body: &mut Body) -> ScanResult<Desc> {
    let a: &dyn Array = a.as_ref();
    let rows = a.len();
    if let DataType::Dictionary(_, _) = a.data_type() {
        let plain = undictionary(a)?;
        return encode_column(&plain, body);
    }
    match a.data_type() {
        DataType::Null => return Ok([NULL, u32::MAX, u32::MAX, u32::MAX, 0, 0]),
        DataType::Boolean => {
            let b = a.as_boolean();
            let n = nulls_section(a, body);
            let v: Vec<u8> = (0..rows).map(|i| b.value(i) as u8).collect();
            return Ok([BOOL, n, body.section(&v) as u32, u32::MAX, 0, 0]);
        }
        DataType::Int64 => {
            let p = a.as_primitive::<Int64Type>();
            let n = nulls_section(a, body);
            let safe = (0..rows).all(|i| p.is_null(i) || (-SAFE..=SAFE).contains(&p.value(i)));
            if safe {
                return Ok([F64, n, f64s(a, body, |i| p.value(i) as f64), u32::MAX, 0, 0]);
            }
            let v = le((0..rows).map(|i| p.value(i)), i64::to_le_bytes);
            return Ok([I64, n, body.section(&v) as u32, u32::MAX, 0, 0]);
        }
        DataType::UInt64 => {
            let p = a.as_primitive::<UInt64Type>();
            let n = nulls_section(a, body);
            if (0..rows).all(|i| p.is_null(i) || p.value(i) <= SAFE as u64) {
                return Ok([F64, n, f64s(a, body, |i| p.value(i) as f64), u32::MAX, 0, 0]);
            }
            let (x, y, len) = texts(rows, body, |i, s| {
                let _ = write!(s, "{}", p.value(i));
            })?;
            return Ok([BIGTEXT, n, x, y, 0, len]);
        }
        DataType::Decimal32(_, s) | DataType::Decimal64(_, s) | DataType::Decimal128(_, s) => {
            let scale = *s as i32 as u32;
            let n = nulls_section(a, body);
            let unscaled = decimal_unscaled(a);
            if (0..rows).all(|i| a.is_null(i) || i64::try_from(unscaled(i)).is_ok()) {
                let v = le((0..rows).map(|i| i64::try_from(unscaled(i)).unwrap_or(0)), i64::to_le_bytes);
                return Ok([DEC64, n, body.section(&v) as u32, u32::MAX, scale, 0]);
            }
            let (x, y, len) = texts(rows, body, |i, s| {
                let _ = write!(s, "{}", unscaled(i));
            })?;
            return Ok([DECTEXT, n, x, y, scale, len]);
        }
        DataType::Decimal256(_, s) => {
            let p = a.as_primitive::<Decimal256Type>();
            let n = nulls_section(a, body);
            let (x, y, len) = texts(rows, body, |i, out| {
                let _ = write!(out, "{}", p.value(i));
            })?;
            return Ok([DECTEXT, n, x, y, *s as i32 as u32, len]);
        }
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
            let (nanos, digits) = time_nanos(a);
            let n = nulls_section(a, body);
            let ms = le((0..rows).map(|i| nanos(i).div_euclid(1_000_000) as f64), f64::to_le_bytes);
            let sub = le((0..rows).map(|i| nanos(i).rem_euclid(1_000_000) as u32), u32::to_le_bytes);
            let x = body.section(&ms) as u32;
            let y = body.section(&sub) as u32;
            return Ok([TIME, n, x, y, digits, 0]);
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let n = nulls_section(a, body);
            let (x, y, len) = texts(rows, body, |i, s| {
                if !a.is_null(i) {
                    s.push_str(string_value(a, i));
                }
            })?;
            return Ok([TEXT, n, x, y, 0, len]);
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            let n = nulls_section(a, body);
            let (x, y, len) = texts(rows, body, |i, s| {
                if !a.is_null(i) {
                    s.push_str(&String::from_utf8_lossy(binary_value(a, i)));
                }
            })?;
            return Ok([TEXT, n, x, y, 0, len]);
        }
        _ => {}
    }
    as_f64!(a, body, Int8Type, Int16Type, Int32Type, UInt8Type, UInt16Type, UInt32Type, Float32Type, Float64Type);
    if let Some(p) = a.as_primitive_opt::<Float16Type>() {
        return Ok([F64, nulls_section(a, body), f64s(a, body, |i| p.value(i).to_f64()), u32::MAX, 0, 0]);
    }
    as_f64!(a, body, Time32SecondType, Time32MillisecondType, Time64MicrosecondType);
    as_f64!(a, body, Time64NanosecondType, DurationSecondType, DurationMillisecondType, DurationMicrosecondType);
    as_f64!(a, body, DurationNanosecondType);
    // Lists, structs, maps and anything else: JSON text per row.
    let n = nulls_section(a, body);
    let (x, y, len) = texts(rows, body, |i, s| json_value(a, i, s))?;
    Ok([JSON, n, x, y, 0, len])
}

fn undictionary(a: &dyn Array) -> ScanResult<ArrayRef> {
    macro_rules! keys {
        ($($t:ty),*) => {
            $(if let Some(d) = a.as_dictionary_opt::<$t>() {
                return Ok(arrow_select::take::take(d.values().as_ref(), d.keys(), None)?);
            })*
        };
    }
    keys!(Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type);
    Err(ScanError::parsing("Unsupported dictionary key type."))
}

fn decimal_unscaled(a: &dyn Array) -> Box<dyn Fn(usize) -> i128 + '_> {
    if let Some(p) = a.as_primitive_opt::<Decimal32Type>() {
        return Box::new(move |i| p.value(i) as i128);
    }
    if let Some(p) = a.as_primitive_opt::<Decimal64Type>() {
        return Box::new(move |i| p.value(i) as i128);
    }
    let p = a.as_primitive::<Decimal128Type>();
    Box::new(move |i| p.value(i))
}

/// Nanoseconds since the epoch of each value, and the fraction digits its unit carries.
fn time_nanos(a: &dyn Array) -> (Box<dyn Fn(usize) -> i128 + '_>, u32) {
    macro_rules! unit {
        ($t:ty, $scale:expr, $digits:expr) => {
            if let Some(p) = a.as_primitive_opt::<$t>() {
                return (Box::new(move |i| p.value(i) as i128 * $scale), $digits);
            }
        };
    }
    unit!(TimestampSecondType, 1_000_000_000, 3);
    unit!(TimestampMillisecondType, 1_000_000, 3);
    unit!(TimestampMicrosecondType, 1_000, 6);
    unit!(TimestampNanosecondType, 1, 9);
    unit!(Date32Type, 86_400_000_000_000, 3);
    unit!(Date64Type, 1_000_000, 3);
    (Box::new(|_| 0), 3)
}

fn string_value(a: &dyn Array, i: usize) -> &str {
    if let Some(s) = a.as_string_opt::<i32>() {
        return s.value(i);
    }
    if let Some(s) = a.as_string_opt::<i64>() {
        return s.value(i);
    }
    a.as_string_view().value(i)
}

fn binary_value(a: &dyn Array, i: usize) -> &[u8] {
    if let Some(s) = a.as_binary_opt::<i32>() {
        return s.value(i);
    }
    if let Some(s) = a.as_binary_opt::<i64>() {
        return s.value(i);
    }
    if let Some(s) = a.as_fixed_size_binary_opt() {
        return s.value(i);
    }
    a.as_binary_view().value(i)
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_number(x: f64, out: &mut String) {
    if x.is_finite() {
        let _ = write!(out, "{x}");
    } else {
        out.push_str("null");
    }
}

/// Days since the epoch to (year, month, day) in the proleptic Gregorian calendar.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// ISO text of an instant, to the millisecond, as the engine prints a timestamp (exec/timestamp.ts): four year
/// digits at least, a year before 1 signed (-0001, as XML Schema writes it; `{y:04}` would give -001).
fn iso(nanos: i128, out: &mut String) {
    let ms = nanos.div_euclid(1_000_000) as i64;
    let (days, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil(days);
    let (h, mi, s, f) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60, rest % 1000);
    let (sign, y) = (if y < 0 { "-" } else { "" }, y.unsigned_abs());
    let _ = write!(out, "\"{sign}{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f:03}Z\"");
}

/// JSON text of value `i` (nested values of lists, structs and maps).
fn json_value(a: &dyn Array, i: usize, out: &mut String) {
    if a.is_null(i) || a.logical_nulls().is_some_and(|n| n.is_null(i)) {
        out.push_str("null");
        return;
    }
    macro_rules! number {
        ($($t:ty),*) => {
            $(if let Some(p) = a.as_primitive_opt::<$t>() {
                let _ = write!(out, "{}", p.value(i));
                return;
            })*
        };
    }
    match a.data_type() {
        DataType::Boolean => out.push_str(if a.as_boolean().value(i) { "true" } else { "false" }),
        DataType::Float16 => json_number(a.as_primitive::<Float16Type>().value(i).to_f64(), out),
        DataType::Float32 => json_number(a.as_primitive::<Float32Type>().value(i) as f64, out),
        DataType::Float64 => json_number(a.as_primitive::<Float64Type>().value(i), out),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => json_string(string_value(a, i), out),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            json_string(&String::from_utf8_lossy(binary_value(a, i)), out)
        }
        DataType::Decimal32(_, s) | DataType::Decimal64(_, s) | DataType::Decimal128(_, s) => {
            decimal_text(decimal_unscaled(a)(i), *s as i32, out)
        }
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => iso(time_nanos(a).0(i), out),
        DataType::Struct(fields) => {
            let st = a.as_struct();
            out.push('{');
            for (k, f) in fields.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                json_string(f.name(), out);
                out.push(':');
                json_value(st.column(k).as_ref(), i, out);
            }
            out.push('}');
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let (values, range) = list_slice(a, i);
            out.push('[');
            for (k, j) in range.enumerate() {
                if k > 0 {
                    out.push(',');
                }
                json_value(values.as_ref(), j, out);
            }
            out.push(']');
        }
        DataType::Map(_, _) => {
            let m = a.as_map();
            let offsets = m.value_offsets();
            let (keys, values) = (m.keys(), m.values());
            out.push('{');
            for (k, j) in (offsets[i] as usize..offsets[i + 1] as usize).enumerate() {
                if k > 0 {
                    out.push(',');
                }
                let mut key = String::new();
                json_value(keys.as_ref(), j, &mut key);
                if key.starts_with('"') {
                    out.push_str(&key);
                } else {
                    json_string(&key, out);
                }
                out.push(':');
                json_value(values.as_ref(), j, out);
            }
            out.push('}');
        }
        DataType::Dictionary(_, _) => match undictionary(a) {
            Ok(plain) => json_value(plain.as_ref(), i, out),
            Err(_) => out.push_str("null"),
        },
        DataType::UInt64 => {
            let _ = write!(out, "{}", a.as_primitive::<UInt64Type>().value(i));
        }
        _ => {
            number!(Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type);
            number!(Time32SecondType, Time32MillisecondType, Time64MicrosecondType, Time64NanosecondType);
            out.push_str("null");
        }
    }
}

fn list_slice(a: &dyn Array, i: usize) -> (ArrayRef, std::ops::Range<usize>) {
    if let Some(l) = a.as_list_opt::<i32>() {
        let o = l.value_offsets();
        return (l.values().clone(), o[i] as usize..o[i + 1] as usize);
    }
    if let Some(l) = a.as_list_opt::<i64>() {
        let o = l.value_offsets();
        return (l.values().clone(), o[i] as usize..o[i + 1] as usize);
    }
    let l = a.as_fixed_size_list();
    let n = l.value_length() as usize;
    (l.values().clone(), i * n..(i + 1) * n)
}

fn decimal_text(unscaled: i128, scale: i32, out: &mut String) {
    if scale <= 0 {
        let _ = write!(out, "{unscaled}");
        for _ in 0..(-scale) {
            out.push('0');
        }
        return;
    }
    let digits = unscaled.unsigned_abs().to_string();
    let s = scale as usize;
    if unscaled < 0 {
        out.push('-');
    }
    if digits.len() <= s {
        out.push_str("0.");
        for _ in digits.len()..s {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..digits.len() - s]);
        out.push('.');
        out.push_str(&digits[digits.len() - s..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        let mut s = String::new();
        iso(1_704_067_205_000_000_000, &mut s);
        assert_eq!(s, "\"2024-01-01T00:00:05.000Z\"");
        // Years outside 0001-9999 (a Parquet INT64 reaches them): signed, four digits at least.
        for (ms, want) in [
            (-62_167_219_200_001_i128, "\"-0001-12-31T23:59:59.999Z\""),
            (-62_167_219_200_000, "\"0000-01-01T00:00:00.000Z\""),
            (253_402_300_800_000, "\"10000-01-01T00:00:00.000Z\""),
        ] {
            s.clear();
            iso(ms * 1_000_000, &mut s);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn decimal_texts() {
        for (u, s, want) in [(625, 2, "6.25"), (-5, 3, "-0.005"), (12, -2, "1200"), (0, 1, "0.0")] {
            let mut out = String::new();
            decimal_text(u, s, &mut out);
            assert_eq!(out, want);
        }
    }
}
