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
            for (i, &k) in d.keys().values().iter().enumerate() {
                if !skip(i) {
                    self.n += 1;
                    *used.get_mut(k as usize).ok_or_else(unreadable)? = true;
                }
            }
            let picks = (0..used.len()).filter(|&j| used[j]);
            // Text: the batch's best by JS string order, then one comparison with the best so far.
            if let (Kind::Str, Some(s)) = (self.kind, d.values().as_string_opt::<i32>()) {
                let want = if self.func == Func::Min { Ordering::Less } else { Ordering::Greater };
                let mut best: Option<&str> = None;
                for v in picks.map(|j| s.value(j)) {
                    if best.is_none_or(|b| js_cmp(v, b) == want) {
                        best = Some(v);
                    }
                }
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
                    for &x in p.values().iter() {
                        self.int_sum = self.int_sum.checked_add(x as i128).ok_or_else(overflow)?;
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
