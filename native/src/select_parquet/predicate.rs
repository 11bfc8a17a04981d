//! The WHERE conjuncts pushed into the Parquet scan, with the engine's semantics (select-engine
//! src/exec/values.ts): values of different kinds are never compared here (such a conjunct is not
//! accepted and stays with the JS evaluator, which raises the error AWS raises), numbers compare
//! exactly (INT against DECIMAL scales the integers, never a double), text compares in UTF-16 code
//! units as JS does, timestamps to the nanosecond. A NaN FLOAT compares as unknown.
//!
//! One comparison serves both uses: filtering values of Arrow arrays, and pruning row groups by
//! their min/max statistics (converted to Arrow arrays by the crate's StatisticsConverter).
use std::cmp::Ordering;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, BooleanArray};
use arrow_schema::{DataType, TimeUnit};

/// A literal as the planner sends it.
#[derive(Clone, Debug)]
pub enum Lit {
    Int(i128),
    /// Unscaled digits and scale: 1.50 is (150, 2).
    Dec(i128, i32),
    Float(f64),
    Str(String),
    Bool(bool),
    /// Nanoseconds since the epoch (UTC).
    Ts(i128),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    IsNull,
    IsNotNull,
    In,
    Between,
    LikePrefix,
}

impl Op {
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "=" => Op::Eq,
            "<>" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "IS NULL" => Op::IsNull,
            "IS NOT NULL" => Op::IsNotNull,
            "IN" => Op::In,
            "BETWEEN" => Op::Between,
            "LIKE PREFIX" => Op::LikePrefix,
            _ => return None,
        })
    }
}

/// What a column's values are, for comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Int,
    Float,
    Decimal(i32),
    Str,
    Bool,
    /// Timestamps and dates, compared in nanoseconds.
    Time,
}

pub fn kind_of(t: &DataType) -> Option<Kind> {
    Some(match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Kind::Int,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => Kind::Int,
        DataType::Float32 | DataType::Float64 => Kind::Float,
        DataType::Decimal32(_, s) | DataType::Decimal64(_, s) | DataType::Decimal128(_, s) => Kind::Decimal(*s as i32),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Str,
        DataType::Boolean => Kind::Bool,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => Kind::Time,
        _ => return None,
    })
}

/// A literal brought into a column's domain.
#[derive(Clone, Debug)]
enum Key {
    /// Exact integer (INT columns; DECIMAL columns hold it at the column's scale).
    Int(i128),
    /// A DECIMAL literal with a fraction against an INT column: lies strictly above this integer.
    Above(i128),
    Float(f64),
    Str(String),
    Bool(bool),
    Nanos(i128),
    /// DECIMAL column against a literal scaled beyond the column: value * 10^shift compares with it.
    Scaled {
        key: i128,
        shift: u32,
    },
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Significant digits of an unscaled value (for the FLOAT columns' double comparison).
fn digits(u: i128) -> usize {
    u.unsigned_abs().to_string().trim_end_matches('0').len()
}

fn key_for(kind: Kind, lit: &Lit) -> Option<Key> {
    Some(match (kind, lit) {
        (Kind::Int, Lit::Int(k)) => Key::Int(*k),
        (Kind::Int, Lit::Dec(u, s)) => {
            if *s <= 0 {
                Key::Int(u.checked_mul(pow10((-*s) as u32)?)?)
            } else {
                let p = pow10(*s as u32)?;
                if u % p == 0 {
                    Key::Int(u / p)
                } else {
                    Key::Above(u.div_euclid(p))
                }
            }
        }
        (Kind::Int, Lit::Float(f)) => Key::Float(*f),
        (Kind::Float, Lit::Int(k)) => Key::Float(*k as f64),
        // A double comparison agrees with the exact one for literals a double holds to 15 digits.
        (Kind::Float, Lit::Dec(u, s)) if digits(*u) <= 15 => Key::Float(format!("{u}e{}", -*s).parse().ok()?),
        (Kind::Float, Lit::Float(f)) => Key::Float(*f),
        (Kind::Decimal(scale), Lit::Int(k)) => decimal_key(scale, *k, 0)?,
        (Kind::Decimal(scale), Lit::Dec(u, s)) => decimal_key(scale, *u, *s)?,
        (Kind::Decimal(scale), Lit::Float(f)) if f.fract() == 0.0 && f.abs() < 9007199254740992.0 => {
            decimal_key(scale, *f as i128, 0)?
        }
        (Kind::Str, Lit::Str(s)) => Key::Str(s.clone()),
        (Kind::Bool, Lit::Bool(b)) => Key::Bool(*b),
        (Kind::Time, Lit::Ts(n)) => Key::Nanos(*n),
        _ => return None,
    })
}

/// Literal `u * 10^-s` against a DECIMAL column of scale `scale` (values are unscaled i128s).
fn decimal_key(scale: i32, u: i128, s: i32) -> Option<Key> {
    if s <= scale {
        Some(Key::Int(u.checked_mul(pow10((scale - s) as u32)?)?))
    } else {
        let shift = (s - scale) as u32;
        pow10(shift)?;
        Some(Key::Scaled { key: u, shift })
    }
}

/// JS string order: UTF-16 code units. UTF-8 byte order (code point order) agrees except where the first
/// differing characters are one in U+E000..U+FFFF and one beyond U+FFFF (a surrogate pair in UTF-16).
pub fn js_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let Some(i) = first_difference(x, y) else {
        return x.len().cmp(&y.len());
    };
    // The start of the character holding byte i (the same in both: their bytes agree before i).
    let mut j = i;
    while j > 0 && x[j] & 0xc0 == 0x80 {
        j -= 1;
    }
    let (lx, ly) = (x[j], y[j]);
    let high_bmp = |l: u8| (0xee..0xf0).contains(&l);
    if (high_bmp(lx) && ly >= 0xf0) || (high_bmp(ly) && lx >= 0xf0) {
        return a[j..].encode_utf16().cmp(b[j..].encode_utf16());
    }
    x[i].cmp(&y[i])
}

/// Where two byte strings first differ (None when one is a prefix of the other): 8 bytes at a time, since
/// MIN and MAX compare values that share long prefixes with the best so far.
fn first_difference(x: &[u8], y: &[u8]) -> Option<usize> {
    let n = x.len().min(y.len());
    let mut i = 0;
    while i + 8 <= n {
        let p = u64::from_le_bytes(x[i..i + 8].try_into().expect("8 bytes"));
        let q = u64::from_le_bytes(y[i..i + 8].try_into().expect("8 bytes"));
        if p != q {
            return Some(i + ((p ^ q).trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    (i..n).find(|&k| x[k] != y[k])
}

/// One value of an array, read for comparison.
pub enum Val<'a> {
    Int(i128),
    Float(f64),
    Str(&'a str),
    Bool(bool),
}

fn cmp_val(v: &Val, key: &Key) -> Option<Ordering> {
    match (v, key) {
        (Val::Int(x), Key::Int(k)) => Some(x.cmp(k)),
        (Val::Int(x), Key::Above(k)) => Some(if x <= k { Ordering::Less } else { Ordering::Greater }),
        (Val::Int(x), Key::Float(k)) => (*x as f64).partial_cmp(k),
        (Val::Int(x), Key::Nanos(k)) => Some(x.cmp(k)),
        (Val::Int(x), Key::Scaled { key, shift }) => Some(match x.checked_mul(pow10(*shift).unwrap_or(1)) {
            Some(y) => y.cmp(key),
            None => x.signum().cmp(&0).then(Ordering::Equal),
        }),
        (Val::Float(x), Key::Float(k)) => x.partial_cmp(k),
        (Val::Str(x), Key::Str(k)) => Some(js_cmp(x, k)),
        (Val::Bool(x), Key::Bool(k)) => Some(x.cmp(k)),
        _ => None,
    }
}

/// Reads value `i` of an array of kind `kind` (the caller checked validity).
pub struct Reader<'a> {
    pub get: Box<dyn Fn(usize) -> Val<'a> + 'a>,
}

/// A value kept across batches (MIN and MAX).
pub enum OwnedVal {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl Val<'_> {
    pub fn to_owned(&self) -> OwnedVal {
        match self {
            Val::Int(x) => OwnedVal::Int(*x),
            Val::Float(x) => OwnedVal::Float(*x),
            Val::Str(s) => OwnedVal::Str(s.to_string()),
            Val::Bool(b) => OwnedVal::Bool(*b),
        }
    }

    /// The evaluator's order (None for a NaN, or for values of different kinds).
    pub fn compare(&self, b: &OwnedVal) -> Option<Ordering> {
        match (self, b) {
            (Val::Int(x), OwnedVal::Int(y)) => Some(x.cmp(y)),
            (Val::Float(x), OwnedVal::Float(y)) => x.partial_cmp(y),
            (Val::Str(x), OwnedVal::Str(y)) => Some(js_cmp(x, y)),
            (Val::Bool(x), OwnedVal::Bool(y)) => Some(x.cmp(y)),
            _ => None,
        }
    }
}

/// A reader of an array's values for a column of kind `kind` (times in nanoseconds, decimals unscaled).
pub fn value_reader(kind: Kind, a: &dyn Array) -> Option<Reader<'_>> {
    match kind {
        Kind::Time => time_reader(a),
        _ => reader(a),
    }
}

macro_rules! ints {
    ($a:expr, $($t:ty),*) => {{
        $(if let Some(p) = $a.as_primitive_opt::<$t>() {
            return Some(Reader { get: Box::new(move |i| Val::Int(p.value(i) as i128)) });
        })*
    }};
}

fn reader<'a>(a: &'a dyn Array) -> Option<Reader<'a>> {
    ints!(a, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type);
    ints!(a, Decimal32Type, Decimal64Type, Decimal128Type);
    if let Some(p) = a.as_primitive_opt::<Float64Type>() {
        return Some(Reader { get: Box::new(move |i| Val::Float(p.value(i))) });
    }
    if let Some(p) = a.as_primitive_opt::<Float32Type>() {
        return Some(Reader { get: Box::new(move |i| Val::Float(p.value(i) as f64)) });
    }
    if let Some(s) = a.as_string_opt::<i32>() {
        return Some(Reader { get: Box::new(move |i| Val::Str(s.value(i))) });
    }
    if let Some(s) = a.as_string_opt::<i64>() {
        return Some(Reader { get: Box::new(move |i| Val::Str(s.value(i))) });
    }
    if let Some(s) = a.as_string_view_opt() {
        return Some(Reader { get: Box::new(move |i| Val::Str(s.value(i))) });
    }
    if let Some(b) = a.as_boolean_opt() {
        return Some(Reader { get: Box::new(move |i| Val::Bool(b.value(i))) });
    }
    None
}

/// Nanoseconds per unit of a time column's values.
fn nanos_per_unit(t: &DataType) -> i128 {
    match t {
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        DataType::Date32 => 86_400_000_000_000,
        _ => 1,
    }
}

fn time_reader<'a>(a: &'a dyn Array) -> Option<Reader<'a>> {
    let scale = nanos_per_unit(a.data_type());
    macro_rules! times {
        ($($t:ty),*) => {
            $(if let Some(p) = a.as_primitive_opt::<$t>() {
                return Some(Reader { get: Box::new(move |i| Val::Int(p.value(i) as i128 * scale)) });
            })*
        };
    }
    times!(TimestampSecondType, TimestampMillisecondType, TimestampMicrosecondType, TimestampNanosecondType);
    times!(Date32Type, Date64Type);
    None
}

/// A conjunct bound to a column of known kind.
#[derive(Clone, Debug)]
pub struct Test {
    pub op: Op,
    kind: Kind,
    keys: Vec<Key>,
}

impl Test {
    /// None when the conjunct cannot be evaluated here exactly (kinds differ, an unsupported form).
    pub fn new(op: Op, kind: Kind, lits: &[Lit]) -> Option<Test> {
        let keys = lits.iter().map(|l| key_for(kind, l)).collect::<Option<Vec<_>>>()?;
        let ok = match op {
            Op::IsNull | Op::IsNotNull => keys.is_empty(),
            Op::Eq | Op::Ne => keys.len() == 1,
            Op::Lt | Op::Le | Op::Gt | Op::Ge => keys.len() == 1 && !matches!(kind, Kind::Bool),
            Op::Between => keys.len() == 2 && !matches!(kind, Kind::Bool),
            Op::In => !keys.is_empty(),
            Op::LikePrefix => keys.len() == 1 && matches!(kind, Kind::Str),
        };
        ok.then_some(Test { op, kind, keys })
    }

    fn read<'a>(&self, a: &'a dyn Array) -> Option<Reader<'a>> {
        match self.kind {
            Kind::Time => time_reader(a),
            _ => reader(a),
        }
    }

    /// The conjunct's truth for one present value: Some(bool), or None for unknown (NaN).
    fn truth(&self, v: &Val) -> Option<bool> {
        let c = |k: usize| cmp_val(v, &self.keys[k]);
        Some(match self.op {
            Op::Eq => c(0)? == Ordering::Equal,
            Op::Ne => c(0)? != Ordering::Equal,
            Op::Lt => c(0)? == Ordering::Less,
            Op::Le => c(0)? != Ordering::Greater,
            Op::Gt => c(0)? == Ordering::Greater,
            Op::Ge => c(0)? != Ordering::Less,
            Op::Between => {
                let (lo, hi) = (c(0)?, c(1)?);
                lo != Ordering::Less && hi != Ordering::Greater
            }
            Op::In => {
                let mut unknown = false;
                for k in 0..self.keys.len() {
                    match c(k) {
                        Some(Ordering::Equal) => return Some(true),
                        None => unknown = true,
                        _ => {}
                    }
                }
                if unknown {
                    return None;
                }
                false
            }
            Op::LikePrefix => match (v, &self.keys[0]) {
                (Val::Str(s), Key::Str(p)) => s.starts_with(p.as_str()),
                _ => return None,
            },
            Op::IsNull => false,
            Op::IsNotNull => true,
        })
    }

    /// Three-valued truth for every row (a null or NaN row is null; IS [NOT] NULL is never null).
    pub fn evaluate(&self, a: &dyn Array) -> BooleanArray {
        let n = a.len();
        let nulls = a.logical_nulls();
        let is_null = |i: usize| nulls.as_ref().is_some_and(|b| b.is_null(i));
        match self.op {
            Op::IsNull => return (0..n).map(|i| Some(is_null(i))).collect(),
            Op::IsNotNull => return (0..n).map(|i| Some(!is_null(i))).collect(),
            _ => {}
        }
        let Some(r) = self.read(a) else {
            return (0..n).map(|_| None::<bool>).collect();
        };
        (0..n).map(|i| if is_null(i) { None } else { self.truth(&(r.get)(i)) }).collect()
    }

    /// False when row-group (or page) statistics prove no row satisfies the conjunct. `mins` and
    /// `maxes` are arrays of the column's type (null where unknown); `nulls` and `rows` per group.
    pub fn may_match(&self, mins: &dyn Array, maxes: &dyn Array, nulls: Option<u64>, rows: u64, g: usize) -> bool {
        match self.op {
            Op::IsNull => return nulls.is_none_or(|n| n > 0),
            Op::IsNotNull => return nulls.is_none_or(|n| n < rows),
            Op::Ne => return true,
            _ => {}
        }
        // Every value null: no comparison holds.
        if nulls == Some(rows) && rows > 0 {
            return false;
        }
        if mins.is_null(g) || maxes.is_null(g) {
            return true;
        }
        let (Some(rmin), Some(rmax)) = (self.read(mins), self.read(maxes)) else {
            return true;
        };
        let (min, max) = ((rmin.get)(g), (rmax.get)(g));
        if matches!(self.kind, Kind::Str) && !self.ascii_bounds(&min, &max) {
            return true; // byte order and JS order may differ beyond ASCII
        }
        let lo = |k: usize| cmp_val(&min, &self.keys[k]);
        let hi = |k: usize| cmp_val(&max, &self.keys[k]);
        let eq = |k: usize| match (lo(k), hi(k)) {
            (Some(a), Some(b)) => a != Ordering::Greater && b != Ordering::Less,
            _ => true,
        };
        match self.op {
            Op::Eq => eq(0),
            Op::In => (0..self.keys.len()).any(eq),
            Op::Lt => lo(0).is_none_or(|c| c == Ordering::Less),
            Op::Le => lo(0).is_none_or(|c| c != Ordering::Greater),
            Op::Gt => hi(0).is_none_or(|c| c == Ordering::Greater),
            Op::Ge => hi(0).is_none_or(|c| c != Ordering::Less),
            Op::Between => lo(1).is_none_or(|c| c != Ordering::Greater) && hi(0).is_none_or(|c| c != Ordering::Less),
            Op::LikePrefix => match (&min, &max, &self.keys[0]) {
                (Val::Str(a), Val::Str(b), Key::Str(p)) => {
                    js_cmp(b, p) != Ordering::Less && (js_cmp(a, p) == Ordering::Less || a.starts_with(p.as_str()))
                }
                _ => true,
            },
            _ => true,
        }
    }

    fn ascii_bounds(&self, min: &Val, max: &Val) -> bool {
        let ascii = |v: &Val| matches!(v, Val::Str(s) if s.is_ascii());
        ascii(min) && ascii(max) && self.keys.iter().all(|k| matches!(k, Key::Str(s) if s.is_ascii()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Decimal128Array, Float64Array, Int64Array, StringArray};

    fn truths(t: &Test, a: &dyn Array) -> Vec<Option<bool>> {
        t.evaluate(a).iter().collect()
    }

    #[test]
    fn integers_against_decimal_literals_exactly() {
        let a = Int64Array::from(vec![Some(2), Some(3), None, Some(i64::MAX)]);
        let t = Test::new(Op::Lt, Kind::Int, &[Lit::Dec(2999, 3)]).unwrap(); // x < 2.999
        assert_eq!(truths(&t, &a), vec![Some(true), Some(false), None, Some(false)]);
        let t = Test::new(Op::Eq, Kind::Int, &[Lit::Dec(300, 2)]).unwrap(); // x = 3.00
        assert_eq!(truths(&t, &a), vec![Some(false), Some(true), None, Some(false)]);
        let t = Test::new(Op::Eq, Kind::Int, &[Lit::Int(i64::MAX as i128)]).unwrap();
        assert_eq!(truths(&t, &a)[3], Some(true));
    }

    #[test]
    fn decimals_compare_at_any_scale() {
        let a = Decimal128Array::from(vec![125, -30000, 0]).with_precision_and_scale(10, 2).unwrap();
        let t = Test::new(Op::Ge, Kind::Decimal(2), &[Lit::Dec(1251, 3)]).unwrap(); // x >= 1.251
        assert_eq!(truths(&t, &a), vec![Some(false), Some(false), Some(false)]);
        let t = Test::new(Op::Between, Kind::Decimal(2), &[Lit::Int(-300), Lit::Dec(125, 2)]).unwrap();
        assert_eq!(truths(&t, &a), vec![Some(true), Some(true), Some(true)]);
        assert!(Test::new(Op::Lt, Kind::Decimal(2), &[Lit::Str("1".into())]).is_none());
    }

    #[test]
    fn nan_is_unknown_and_strings_follow_js_order() {
        let a = Float64Array::from(vec![f64::NAN, 1.0]);
        let t = Test::new(Op::Gt, Kind::Float, &[Lit::Int(0)]).unwrap();
        assert_eq!(truths(&t, &a), vec![None, Some(true)]);
        // U+FF21 sorts after U+1F600 in UTF-16 (0xD83D...) but before it in UTF-8.
        let s = StringArray::from(vec!["\u{ff21}", "a"]);
        let t = Test::new(Op::Lt, Kind::Str, &[Lit::Str("\u{1f600}".into())]).unwrap();
        assert_eq!(truths(&t, &s), vec![Some(false), Some(true)]);
        assert_eq!(js_cmp("x\u{ff21}", "x\u{1f600}"), Ordering::Greater);
        assert_eq!(js_cmp("x\u{e9}", "x\u{1f600}"), Ordering::Less);
        assert_eq!(js_cmp("ab", "abc"), Ordering::Less);
        let t = Test::new(Op::LikePrefix, Kind::Str, &[Lit::Str("a".into())]).unwrap();
        assert_eq!(truths(&t, &s), vec![Some(false), Some(true)]);
    }

    #[test]
    fn statistics_prune_only_what_cannot_match() {
        let mins = Int64Array::from(vec![Some(0), Some(100), None]);
        let maxes = Int64Array::from(vec![Some(99), Some(199), None]);
        let t = Test::new(Op::Ge, Kind::Int, &[Lit::Int(150)]).unwrap();
        let m: Vec<bool> = (0..3).map(|g| t.may_match(&mins, &maxes, Some(0), 100, g)).collect();
        assert_eq!(m, vec![false, true, true]);
        let t = Test::new(Op::IsNull, Kind::Int, &[]).unwrap();
        assert!(!t.may_match(&mins, &maxes, Some(0), 100, 0));
        assert!(t.may_match(&mins, &maxes, None, 100, 0));
    }
}
