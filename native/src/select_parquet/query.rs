//! What the TS face asks of a scan (the napi objects of `ParquetScan`'s constructor), checked and turned
//! into the scan's own `Query`: the columns, the WHERE conjuncts it can express, the aggregates, the ScanRange.
use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::aggregate::Func;
use super::predicate::{Lit, Op};
use crate::shared::invalid;

/// A column named by a path of field names (unquoted names match case-insensitively).
#[napi(object)]
pub struct ParquetColumnRef {
    pub steps: Vec<String>,
    pub quoted: Vec<bool>,
}

/// A literal of a conjunct: `kind` int | decimal | float | string | bool | timestamp.
#[napi(object)]
pub struct ParquetLiteral {
    pub kind: String,
    /// int: the digits; decimal: the unscaled digits; string: the text; timestamp: epoch nanoseconds.
    pub text: Option<String>,
    pub scale: Option<i32>,
    pub number: Option<f64>,
    pub flag: Option<bool>,
}

/// One conjunct of WHERE: `op` = < <= > >= <> | IS NULL | IS NOT NULL | IN | BETWEEN | LIKE PREFIX.
#[napi(object)]
pub struct ParquetConjunct {
    pub column: ParquetColumnRef,
    pub op: String,
    pub values: Vec<ParquetLiteral>,
}

/// An aggregate of the SELECT list: `func` COUNT | SUM | AVG | MIN | MAX; no column for COUNT(*).
#[napi(object)]
pub struct ParquetAggregate {
    pub func: String,
    pub column: Option<ParquetColumnRef>,
}

#[napi(object)]
pub struct ParquetQuery {
    /// Top-level columns to return (undefined: all).
    pub columns: Option<Vec<String>>,
    /// The leading conjuncts of WHERE's AND chain, in order, as far as the planner could express them.
    pub conjuncts: Vec<ParquetConjunct>,
    /// True when `conjuncts` are the whole WHERE clause.
    pub whole_where: bool,
    /// Conjuncts further down the AND chain: they prune row groups by statistics, they filter no row.
    pub prune_only: Option<Vec<ParquetConjunct>>,
    /// ScanRange resolved against the object: row groups starting in [start, end] are read.
    pub range_start: Option<f64>,
    pub range_end: Option<f64>,
    /// Rows per batch (default 8192).
    pub batch_rows: Option<u32>,
    /// The SELECT list when it is only aggregates and WHERE is absent or all in `conjuncts`: the scan computes
    /// them (when it can, all of them) and returns their results instead of rows.
    pub aggregates: Option<Vec<ParquetAggregate>>,
}

pub(super) struct Conjunct {
    pub(super) steps: Vec<(String, bool)>,
    pub(super) op: Op,
    pub(super) values: Vec<Lit>,
}

/// A column path: steps of (name, quoted).
pub(super) type Path = Vec<(String, bool)>;
/// An aggregate the scan computes: its function and the column it reads (None: COUNT(*)).
pub(super) type ScanAggregate = (Func, Option<Path>);

pub(super) struct Query {
    pub(super) columns: Option<Vec<String>>,
    pub(super) aggregates: Vec<ScanAggregate>,
    pub(super) conjuncts: Vec<Conjunct>,
    pub(super) prune_only: Vec<Conjunct>,
    pub(super) whole_where: bool,
    pub(super) range: Option<(u64, u64)>,
    pub(super) batch_rows: usize,
}

fn lit(l: &ParquetLiteral) -> Option<Lit> {
    let text = || l.text.as_deref();
    Some(match l.kind.as_str() {
        "int" => Lit::Int(text()?.parse().ok()?),
        "decimal" => Lit::Dec(text()?.parse().ok()?, l.scale?),
        "float" => Lit::Float(l.number?),
        "string" => Lit::Str(text()?.to_string()),
        "bool" => Lit::Bool(l.flag?),
        "timestamp" => Lit::Ts(text()?.parse().ok()?),
        _ => return None,
    })
}

impl Query {
    pub(super) fn from_js(q: ParquetQuery) -> Result<Query> {
        let (mut conjuncts, mut prune_only) = (Vec::new(), Vec::new());
        let leading = q.conjuncts.len();
        let mut cut = false;
        for (k, c) in q.conjuncts.into_iter().chain(q.prune_only.unwrap_or_default()).enumerate() {
            if c.column.steps.is_empty() || c.column.steps.len() != c.column.quoted.len() {
                return Err(invalid("ParquetScan: a column needs steps and their quoted flags"));
            }
            let op = Op::parse(&c.op);
            let values: Option<Vec<Lit>> = c.values.iter().map(lit).collect();
            let (Some(op), Some(values)) = (op, values) else {
                cut |= k < leading; // a form this scan does not know: from here on, pruning only
                continue;
            };
            let conjunct = Conjunct { steps: c.column.steps.into_iter().zip(c.column.quoted).collect(), op, values };
            if k < leading && !cut {
                conjuncts.push(conjunct);
            } else {
                prune_only.push(conjunct);
            }
        }
        let whole = q.whole_where && !cut;
        let num = |x: Option<f64>| x.filter(|v| *v >= 0.0).map(|v| v as u64);
        let range = match (num(q.range_start), num(q.range_end)) {
            (Some(a), Some(b)) => Some((a, b)),
            (None, None) => None,
            _ => return Err(invalid("ParquetScan: rangeStart and rangeEnd go together")),
        };
        let batch_rows = q.batch_rows.unwrap_or(8192).clamp(1, 1 << 20) as usize;
        let mut aggregates = Vec::new();
        for a in q.aggregates.unwrap_or_default() {
            let func = match (a.func.as_str(), &a.column) {
                ("COUNT", None) => Func::CountStar,
                ("COUNT", Some(_)) => Func::Count,
                ("SUM", Some(_)) => Func::Sum,
                ("AVG", Some(_)) => Func::Avg,
                ("MIN", Some(_)) => Func::Min,
                ("MAX", Some(_)) => Func::Max,
                _ => {
                    return Err(invalid(
                        "ParquetScan: an aggregate is COUNT, SUM, AVG, MIN or MAX of a column, or COUNT(*)",
                    ))
                }
            };
            let column = a.column.map(|c| c.steps.into_iter().zip(c.quoted).collect());
            aggregates.push((func, column));
        }
        Ok(Query { columns: q.columns, aggregates, conjuncts, prune_only, whole_where: whole, range, batch_rows })
    }
}
