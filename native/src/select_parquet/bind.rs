//! Names bound to the file's leaf columns: a conjunct or an aggregate resolved against the schema as the
//! evaluator binds names, the row groups a bound conjunct's statistics rule out, and the row filter the
//! decoder runs on the Arrow arrays.
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{ArrowPredicate, ArrowPredicateFn, ArrowReaderMetadata, RowFilter};
use parquet::arrow::ProjectionMask;
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::ParquetMetaData;

use super::aggregate::Aggregate;
use super::error::ScanResult;
use super::predicate::{kind_of, Op, Test};
use super::query::{Conjunct, ScanAggregate};

/// JS's lower-casing for unquoted names.
fn same_name(field: &str, step: &str, quoted: bool) -> bool {
    field == step || (!quoted && field.to_lowercase() == step.to_lowercase())
}

/// Exact match first, then (unquoted) the first case-insensitive one, as the evaluator binds names.
pub(super) fn find_field<'a>(fields: &'a [Arc<Field>], step: &str, quoted: bool) -> Option<(usize, &'a Field)> {
    let exact = fields.iter().position(|f| f.name() == step);
    let i = exact.or_else(|| fields.iter().position(|f| same_name(f.name(), step, quoted)))?;
    Some((i, fields[i].as_ref()))
}

/// A conjunct bound to a leaf column: its leaf index, the field names down to it, its test.
#[derive(Clone)]
pub(super) struct Bound {
    pub(super) leaf: usize,
    pub(super) names: Vec<String>,
    pub(super) field: Field,
    pub(super) test: Test,
}

/// The leaf column a path names: its leaf index, the field names down to it, its field. None for an unknown
/// name, a path through something other than structs, or a leaf inside a list (not one value per row).
pub(super) fn resolve(md: &ArrowReaderMetadata, steps: &[(String, bool)]) -> Option<(usize, Vec<String>, Field)> {
    let schema = md.schema();
    let mut fields: &[Arc<Field>] = schema.fields();
    let mut names = Vec::new();
    let mut field: Option<&Field> = None;
    for (k, (step, quoted)) in steps.iter().enumerate() {
        let (_, f) = find_field(fields, step, *quoted)?;
        names.push(f.name().clone());
        field = Some(f);
        match f.data_type() {
            DataType::Struct(children) if k + 1 < steps.len() => fields = children,
            _ if k + 1 < steps.len() => return None,
            _ => {}
        }
    }
    let field = field?;
    let descr = md.metadata().file_metadata().schema_descr();
    let leaf = (0..descr.num_columns()).find(|&j| descr.column(j).path().parts() == names.as_slice())?;
    if descr.column(leaf).max_rep_level() > 0 {
        return None;
    }
    Some((leaf, names, field.clone()))
}

pub(super) fn bind(md: &ArrowReaderMetadata, c: &Conjunct) -> Option<Bound> {
    let (leaf, names, field) = resolve(md, &c.steps)?;
    let test = Test::new(c.op, kind_of(field.data_type())?, &c.values)?;
    Some(Bound { leaf, names, field, test })
}

/// The aggregates bound to leaves (all of them, or None: the evaluator computes them), with the leaves.
pub(super) fn bind_aggregates(md: &ArrowReaderMetadata, aggs: &[ScanAggregate]) -> Option<Vec<(Aggregate, usize)>> {
    let mut out = Vec::new();
    for (func, column) in aggs {
        match column {
            None => out.push((Aggregate::new(*func, vec![], None)?, usize::MAX)),
            Some(steps) => {
                let (leaf, names, field) = resolve(md, steps)?;
                out.push((Aggregate::new(*func, names, Some(field.data_type()))?, leaf));
            }
        }
    }
    Some(out)
}

/// The row groups statistics cannot rule out, for one bound conjunct.
pub(super) fn prune(md: &ParquetMetaData, b: &Bound, keep: &mut [bool]) -> ScanResult<()> {
    let descr = md.file_metadata().schema_descr();
    let col = descr.column(b.leaf);
    // INT96's sort order is undefined (parquet-format, "Column order"); unsigned statistics of old
    // writers were written signed. Neither prunes.
    let unsigned =
        matches!(b.field.data_type(), DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64);
    if col.physical_type() == PhysicalType::INT96 || unsigned {
        return Ok(());
    }
    let conv = StatisticsConverter::from_column_index(b.leaf, &b.field, descr)?.with_missing_null_counts_as_zero(false);
    let groups = md.row_groups();
    let mins = conv.row_group_mins(groups.iter())?;
    let maxes = conv.row_group_maxes(groups.iter())?;
    let nulls = conv.row_group_null_counts(groups.iter())?;
    for (g, k) in keep.iter_mut().enumerate() {
        if !*k {
            continue;
        }
        let n = (!nulls.is_null(g)).then(|| nulls.value(g));
        let rows = groups[g].num_rows() as u64;
        if !b.test.may_match(mins.as_ref(), maxes.as_ref(), n, rows, g) {
            *k = false;
        }
    }
    Ok(())
}

/// The leaf array a bound conjunct reads, out of the one-column batch the row filter hands over, and
/// the rows where a struct on the way is null (the path is MISSING there).
pub(super) fn leaf_of(
    batch: &RecordBatch,
    column: usize,
    names: &[String],
) -> Option<(arrow_array::ArrayRef, Option<NullBuffer>)> {
    let mut a = batch.columns().get(column)?.clone();
    let mut outer: Option<NullBuffer> = None;
    for name in &names[1..] {
        let st = a.as_struct_opt()?;
        outer = NullBuffer::union(outer.as_ref(), st.logical_nulls().as_ref());
        a = st.column_by_name(name)?.clone();
    }
    Some((a, outer))
}

pub(super) fn row_filter_of(md: &ArrowReaderMetadata, bound: Vec<Bound>, exact: bool) -> RowFilter {
    let descr = md.metadata().file_metadata().schema_descr_ptr();
    let predicates: Vec<Box<dyn ArrowPredicate>> = bound
        .into_iter()
        .map(|b| {
            let mask = ProjectionMask::leaves(&descr, [b.leaf]);
            let (names, test) = (b.names, b.test);
            let f = move |batch: RecordBatch| -> std::result::Result<BooleanArray, arrow_schema::ArrowError> {
                let (a, outer) = leaf_of(&batch, 0, &names)
                    .ok_or_else(|| arrow_schema::ArrowError::SchemaError("filter column not found".into()))?;
                let truth = test.evaluate(a.as_ref());
                let missing = |i: usize| outer.as_ref().is_some_and(|n| n.is_null(i));
                // Exact: a row stays when the whole WHERE is true. Otherwise only a false conjunct drops a
                // row: the evaluator reaches it before anything after it, so nothing it would raise is lost.
                Ok((0..truth.len())
                    .map(|i| {
                        let t = if missing(i) {
                            match test.op {
                                Op::IsNull => Some(true),
                                Op::IsNotNull => Some(false),
                                _ => None,
                            }
                        } else {
                            truth.is_valid(i).then(|| truth.value(i))
                        };
                        Some(if exact { t == Some(true) } else { t != Some(false) })
                    })
                    .collect())
            };
            Box::new(ArrowPredicateFn::new(mask, f)) as Box<dyn ArrowPredicate>
        })
        .collect();
    RowFilter::new(predicates)
}
