//! COUNT(*), COUNT, MIN and MAX answered from the row groups' column-chunk statistics, when the query has no
//! WHERE and every aggregate of it can be: the scan then reads no data page. Only statistics that are exact
//! count: a MIN or MAX needs the writer's `is_*_value_exact` flag (absent means not exact: truncated text
//! bounds are not values), the `min_value`/`max_value` fields (not the deprecated `min`/`max`, which old
//! writers filled in signed byte order) and the type's defined order; COUNT of a column needs the chunk's null
//! count. Text is ordered as JS orders it (UTF-16 code units) where UTF-8 byte order (the statistics' order)
//! agrees: a MAX without a 4-byte sequence, a MIN without a character in U+E000..U+FFFF (lead byte 0xEE or
//! 0xEF). Doubles are not answered (statistics leave NaN out; the evaluator fails on it), nor unsigned,
//! decimal or time columns. Anything else is decoded as before.
use parquet::basic::{ColumnOrder, ConvertedType, LogicalType, SortOrder};
use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};
use parquet::file::statistics::Statistics;

use super::aggregate::{Aggregate, Func};
use super::error::ScanResult;
use super::predicate::{Kind, Val};

/// What one column chunk gives one aggregate: values counted, and the chunk's best (MIN or MAX).
type Part<'a> = (u64, Option<Val<'a>>);

/// Adds every aggregate's answer over the row groups `groups` from their statistics and returns true; or
/// returns false and changes nothing when any of them cannot be answered so. `leaves`: each aggregate's leaf
/// column (any value for COUNT(*)).
pub(super) fn answer(
    md: &ParquetMetaData,
    groups: &[usize],
    aggs: &mut [(Aggregate, usize)],
    leaves: &[usize],
) -> ScanResult<bool> {
    let mut parts: Vec<Vec<Part>> = Vec::with_capacity(aggs.len());
    for ((a, _), leaf) in aggs.iter().zip(leaves) {
        let mut mine = Vec::with_capacity(groups.len());
        for &g in groups {
            let rg = md.row_group(g);
            let rows = rg.num_rows().max(0) as u64;
            let part = if a.func() == Func::CountStar {
                Some((rows, None))
            } else {
                chunk_part(md, a, *leaf, rg.column(*leaf), rows)
            };
            match part {
                Some(p) => mine.push(p),
                None => return Ok(false),
            }
        }
        parts.push(mine);
    }
    for ((a, _), mine) in aggs.iter_mut().zip(parts) {
        for (n, best) in mine {
            a.add_exact(n, best)?;
        }
    }
    Ok(true)
}

/// One aggregate over one top-level column chunk of `rows` rows, from its statistics.
fn chunk_part<'a>(
    md: &ParquetMetaData,
    a: &Aggregate,
    leaf: usize,
    c: &'a ColumnChunkMetaData,
    rows: u64,
) -> Option<Part<'a>> {
    // A struct on the way adds nulls of its own (MISSING): top-level columns only. Their chunk holds one value
    // per row (resolve() refuses repeated leaves); a chunk that says otherwise is not trusted.
    if !a.top_level() || c.num_values() < 0 || c.num_values() as u64 != rows {
        return None;
    }
    let stats = c.statistics()?;
    let nulls = stats.null_count_opt().filter(|&n| n <= rows);
    let func = a.func();
    if func == Func::Count {
        return Some((rows - nulls?, None));
    }
    if !matches!(func, Func::Min | Func::Max) || stats.is_min_max_deprecated() {
        return None;
    }
    let max = func == Func::Max;
    let exact = if max { stats.max_is_exact() } else { stats.min_is_exact() };
    let bytes = if max { stats.max_bytes_opt() } else { stats.min_bytes_opt() };
    let Some(bytes) = bytes else {
        // No bound: a chunk of nulls only contributes nothing; anything else is unknown.
        return (nulls? == rows).then_some((0, None));
    };
    if !exact {
        return None;
    }
    // Values were counted: at least one (only whether any was matters to MIN and MAX).
    let n = nulls.map_or(1, |k| rows - k).max(1);
    let col = md.file_metadata().schema_descr().column(leaf);
    let order = md.file_metadata().column_order(leaf);
    let best = match (a.kind(), stats) {
        (Kind::Str, Statistics::ByteArray(_)) => {
            if order != ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED) {
                return None;
            }
            let text = std::str::from_utf8(bytes).ok()?;
            let agrees =
                if max { !bytes.iter().any(|&b| b >= 0xf0) } else { !bytes.iter().any(|&b| b == 0xee || b == 0xef) };
            if !agrees {
                return None;
            }
            Val::Str(text)
        }
        (Kind::Int, Statistics::Int32(s)) if signed(col.logical_type_ref(), col.converted_type()) => {
            Val::Int(*(if max { s.max_opt() } else { s.min_opt() })? as i128)
        }
        (Kind::Int, Statistics::Int64(s)) if signed(col.logical_type_ref(), col.converted_type()) => {
            Val::Int(*(if max { s.max_opt() } else { s.min_opt() })? as i128)
        }
        _ => return None,
    };
    // Integers order signed whether or not the file states the order (legacy order is signed).
    if matches!(best, Val::Int(_))
        && !matches!(order, ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::SIGNED) | ColumnOrder::UNDEFINED)
    {
        return None;
    }
    Some((n, Some(best)))
}

/// A plain signed integer column (not unsigned, not a decimal, date or time stored as an integer).
fn signed(logical: Option<&LogicalType>, converted: ConvertedType) -> bool {
    let logical_ok = match logical {
        None => true,
        Some(LogicalType::Integer(int)) => int.is_signed,
        Some(_) => false,
    };
    logical_ok
        && matches!(
            converted,
            ConvertedType::NONE
                | ConvertedType::INT_8
                | ConvertedType::INT_16
                | ConvertedType::INT_32
                | ConvertedType::INT_64
        )
}
