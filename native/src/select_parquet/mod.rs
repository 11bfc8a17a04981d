//! S3 Select over Parquet: the scan runs here, in arrow-rs, and the bytes come from the caller.
//!
//! The TS face (select-engine src/formats/parquet) reads the footer, opens a `ParquetScan` with the
//! query's needs (top-level columns, the WHERE conjuncts it can express, the ScanRange), then calls
//! `next` until done: each call either asks for byte ranges of the object (only the column chunks
//! the query reads, in the row groups it cannot rule out) or returns a batch of rows as columns
//! (encode.rs). Row groups are pruned by min/max statistics; the accepted conjuncts run on the Arrow
//! arrays inside the decoder (a row filter), so only the needed columns of matching rows are
//! decoded and sent. Every call is a task on the libuv pool; hostile numbers are checked before the
//! crate acts on them (guard.rs), and a panic of the crate ends the scan with an error, never the
//! process. The query's napi objects are in query.rs, the binding of its names to leaf columns (and the
//! pruning and row filter they drive) in bind.rs.
mod aggregate;
mod bind;
mod encode;
mod error;
mod from_stats;
mod guard;
mod predicate;
mod query;
mod spans;
mod thrift;

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_schema::{DataType, Field};
use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::push_decoder::{ParquetPushDecoder, ParquetPushDecoderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::ParquetMetaDataReader;
use parquet::DecodeResult;

use crate::shared::{invalid, Claim, Shared};
use aggregate::Aggregate;
use bind::{bind, bind_aggregates, find_field, prune, resolve, row_filter_of, Bound};
use error::{ScanError, ScanResult};
use guard::Chunk;
use query::{ParquetQuery, Query};
use spans::{join_pieces, SpanPool};

/// What the scan found in the footer and decided.
#[napi(object)]
pub struct ParquetOpened {
    /// Names of the returned columns, in batch order.
    pub fields: Vec<String>,
    /// Each returned column's type as the evaluator may count on it: "int" (integers of every width), "float"
    /// (floating point), "" (anything else). A FLOAT holding 7.0 is then divided as a FLOAT.
    pub kinds: Vec<String>,
    /// How many leading conjuncts run inside the scan.
    pub pushed: u32,
    /// True when every row returned satisfies the whole WHERE clause (nothing left to evaluate).
    pub exact: bool,
    pub row_groups: u32,
    /// Row groups whose data is read (none when statistics answered the aggregates).
    pub row_groups_read: u32,
    /// The scan computes the aggregates: the last step brings their results, no batch comes.
    pub aggregated: bool,
}

/// One step: byte ranges to read (`needs`: start, end pairs), or a batch, or the end.
#[napi(object)]
pub struct ParquetStep {
    pub needs: Option<Vec<f64>>,
    pub batch: Option<Buffer>,
    /// With `done`, when the scan aggregated: the results as JSON, one per aggregate.
    pub aggregates: Option<String>,
    pub done: bool,
}

/// How the row groups left are decoded: one decoder per row group, built when its turn comes, so that the
/// dictionaries of a group are probed just before it (guard.rs, Dictionaries) and a LIMIT that stops early
/// reads nothing of the groups after.
struct Plan {
    arrow: ArrowReaderMetadata,
    projection: ProjectionMask,
    bound: Vec<Bound>,
    exact: bool,
    batch_rows: usize,
    groups: std::collections::VecDeque<GroupPlan>,
}

/// One row group to read: its column chunks (for the page checks) and the dictionary pages to probe first.
/// `whole`: no row filter, so the decoder reads every chunk of the group whole; the probe then reads the
/// chunks whole and hands them to the decoder, instead of reading each dictionary page twice (a group of
/// long, mostly distinct strings has dictionary pages of a megabyte).
struct GroupPlan {
    index: usize,
    chunks: Vec<Chunk>,
    probes: Vec<guard::DictionaryProbe>,
    whole: bool,
}

type Aggregates = Option<Vec<(Aggregate, usize)>>;

impl Plan {
    /// The decoder of one row group; the top-level text columns `as_dictionary` (leaves) come as dictionary
    /// arrays (the aggregates read each distinct value once, and no value is copied per row).
    fn decoder(&self, group: usize, batch_rows: usize, as_dictionary: &[usize]) -> ScanResult<Box<ParquetPushDecoder>> {
        let arrow = if as_dictionary.is_empty() {
            self.arrow.clone()
        } else {
            let descr = self.arrow.metadata().file_metadata().schema_descr();
            let roots: Vec<usize> = as_dictionary.iter().map(|&l| descr.get_column_root_idx(l)).collect();
            let schema = self.arrow.schema();
            let fields: Vec<Arc<Field>> = schema
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| match f.data_type() {
                    DataType::Utf8 if roots.contains(&i) => {
                        let t = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                        Arc::new(f.as_ref().clone().with_data_type(t))
                    }
                    _ => f.clone(),
                })
                .collect();
            let schema = Arc::new(arrow_schema::Schema::new_with_metadata(fields, schema.metadata().clone()));
            let options = ArrowReaderOptions::new().with_schema(schema);
            ArrowReaderMetadata::try_new(self.arrow.metadata().clone(), options)?
        };
        let mut builder = ParquetPushDecoderBuilder::new_with_metadata(arrow)
            .with_row_groups(vec![group])
            .with_projection(self.projection.clone());
        if !self.bound.is_empty() {
            builder = builder.with_row_filter(row_filter_of(&self.arrow, self.bound.clone(), self.exact));
        }
        Ok(Box::new(builder.with_batch_size(batch_rows).build()?))
    }

    /// The phase that reads the next row group, or ends the scan when none is left.
    fn next_group(mut self: Box<Self>, aggregates: Aggregates) -> ScanResult<Phase> {
        let Some(group) = self.groups.pop_front() else {
            return Ok(match aggregates {
                Some(a) => Phase::Finishing(a),
                None => Phase::Done,
            });
        };
        if group.probes.is_empty() {
            let decoder = self.decoder(group.index, self.batch_rows, &[])?;
            return Ok(Phase::Decoding { decoder, chunks: group.chunks, plan: self, aggregates });
        }
        Ok(Phase::Probing { plan: self, group, aggregates })
    }
}

enum Phase {
    New,
    /// The dictionary pages of the group's byte-array chunks come first: its decoder is built once their
    /// longest entries set the batch size.
    Probing {
        plan: Box<Plan>,
        group: GroupPlan,
        aggregates: Aggregates,
    },
    Decoding {
        decoder: Box<ParquetPushDecoder>,
        chunks: Vec<Chunk>,
        plan: Box<Plan>,
        aggregates: Aggregates,
    },
    /// Aggregating and no row group left to read: the next step brings the results.
    Finishing(Vec<(Aggregate, usize)>),
    Done,
}

pub struct ScanState {
    file_size: u64,
    query: Query,
    phase: Phase,
    /// The ranges the last step asked for: the next one cuts them out of the bytes handed over.
    asked: Vec<Range<u64>>,
    /// The buffers the bytes handed over are copied into, reused from one step to the next.
    spans: SpanPool,
}

impl ScanState {
    fn open(&mut self, footer: &[u8]) -> ScanResult<ParquetOpenedOut> {
        if !matches!(self.phase, Phase::New) {
            return Err(ScanError::parsing("The scan is already open."));
        }
        guard::check_footer_bytes(footer)?;
        let data_end = self
            .file_size
            .checked_sub(8 + footer.len() as u64)
            .ok_or_else(|| ScanError::parsing("Footer larger than the object."))?;
        let md = ParquetMetaDataReader::decode_metadata(footer)?;
        guard::check_metadata(&md, data_end)?;
        let arrow = ArrowReaderMetadata::try_new(Arc::new(md), ArrowReaderOptions::new())?;
        let md = arrow.metadata().clone();
        let descr = md.file_metadata().schema_descr_ptr();

        // Projection: the named top-level columns (unknown names are MISSING to the evaluator).
        let schema = arrow.schema().clone();
        let roots: Vec<usize> = match &self.query.columns {
            None => (0..schema.fields().len()).collect(),
            Some(cols) => {
                let mut r: Vec<usize> =
                    cols.iter().filter_map(|c| find_field(schema.fields(), c, false).map(|(i, _)| i)).collect();
                r.sort_unstable();
                r.dedup();
                r
            }
        };
        let fields: Vec<String> = roots.iter().map(|&i| schema.field(i).name().clone()).collect();
        let kinds: Vec<String> = roots.iter().map(|&i| static_kind(schema.field(i).data_type()).into()).collect();

        // The leading conjuncts this scan can evaluate exactly (to the first that does not bind: another kind
        // of value, an unknown column); those after it that bind prune row groups by statistics only.
        let mut bound = Vec::new();
        let mut later = Vec::new();
        let mut cut = false;
        for c in &self.query.conjuncts {
            match bind(&arrow, c) {
                Some(b) if !cut => bound.push(b),
                Some(b) => later.push(b),
                None => cut = true,
            }
        }
        later.extend(self.query.prune_only.iter().filter_map(|c| bind(&arrow, c)));
        let exact = self.query.whole_where && !cut;
        let pushed = bound.len() as u32;

        // Row groups: those starting in the ScanRange that statistics cannot rule out.
        let groups = md.row_groups();
        let mut keep: Vec<bool> = groups
            .iter()
            .map(|rg| {
                let start = rg.columns().iter().map(|c| guard::chunk_range(c).0).min().unwrap_or(0) as u64;
                rg.num_rows() > 0 && self.query.range.is_none_or(|(a, b)| start >= a && start <= b)
            })
            .collect();
        for b in bound.iter().chain(&later) {
            prune(&md, b, &mut keep)?;
        }
        let selected: Vec<usize> = (0..groups.len()).filter(|&g| keep[g]).collect();

        // The column chunks the decoder may ask for, for the page checks.
        let mut leaves: Vec<usize> =
            (0..descr.num_columns()).filter(|&j| roots.contains(&descr.get_column_root_idx(j))).collect();
        leaves.extend(bound.iter().map(|b| b.leaf));
        // Aggregates computed here: WHERE absent or all evaluated here, every aggregate over a column it can read.
        let where_done = exact || (self.query.conjuncts.is_empty() && self.query.prune_only.is_empty());
        let mut aggregates: Aggregates = None;
        // Each aggregate's leaf column (`aggregates` holds its column in the batch).
        let mut agg_leaf_of: Vec<usize> = Vec::new();
        let mut projection = ProjectionMask::roots(&descr, roots.clone());
        let mut as_dictionary: Vec<usize> = Vec::new();
        if !self.query.aggregates.is_empty() && where_done {
            if let Some(bound_aggs) = bind_aggregates(&arrow, &self.query.aggregates) {
                // Top-level text columns only aggregated (COUNT, MIN, MAX; no conjunct reads them) may be read
                // as dictionary arrays.
                as_dictionary = self
                    .query
                    .aggregates
                    .iter()
                    .filter_map(|(_, steps)| resolve(&arrow, steps.as_ref()?))
                    .filter(|(leaf, names, field)| {
                        names.len() == 1
                            && field.data_type() == &DataType::Utf8
                            && bound.iter().all(|b| b.leaf != *leaf)
                    })
                    .map(|(leaf, _, _)| leaf)
                    .collect();
                let mut agg_leaves: Vec<usize> =
                    bound_aggs.iter().map(|(_, l)| *l).filter(|l| *l != usize::MAX).collect();
                agg_leaves.sort_unstable();
                agg_leaves.dedup();
                agg_leaf_of = bound_aggs.iter().map(|(_, l)| *l).collect();
                let mut agg_roots: Vec<usize> = agg_leaves.iter().map(|&l| descr.get_column_root_idx(l)).collect();
                agg_roots.dedup();
                let with_columns = bound_aggs
                    .into_iter()
                    .map(|(a, leaf)| {
                        let col = if leaf == usize::MAX {
                            0
                        } else {
                            agg_roots.iter().position(|&r| r == descr.get_column_root_idx(leaf)).unwrap_or(0)
                        };
                        (a, col)
                    })
                    .collect();
                projection = ProjectionMask::leaves(&descr, agg_leaves.iter().copied());
                leaves = agg_leaves;
                leaves.extend(bound.iter().map(|b| b.leaf));
                aggregates = Some(with_columns);
            }
        }
        // Without WHERE the aggregates may all come from exact statistics (from_stats.rs): no data page is read.
        let mut selected = selected;
        if let Some(aggs) = aggregates.as_mut() {
            if self.query.conjuncts.is_empty()
                && self.query.prune_only.is_empty()
                && from_stats::answer(&md, &selected, aggs, &agg_leaf_of)?
            {
                selected.clear();
            }
        }
        let mut plans = std::collections::VecDeque::new();
        for &g in &selected {
            let (mut chunks, mut probes) = (Vec::new(), Vec::new());
            for &j in &leaves {
                let c = groups[g].column(j);
                let (start, end) = guard::chunk_range(c);
                chunks.push(Chunk {
                    range: start as u64..end as u64,
                    codec: c.compression(),
                    uncompressed: c.uncompressed_size() as u64,
                });
                let bytes = matches!(c.column_type(), PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY);
                if let Some(d) = c.dictionary_page_offset().filter(|&d| d > 0 && bytes) {
                    let to = if c.data_page_offset() > d { c.data_page_offset() } else { end };
                    probes.push(guard::DictionaryProbe {
                        leaf: j,
                        range: d as u64..(to as u64).min(end as u64),
                        codec: c.compression(),
                        repeated: descr.column(j).max_rep_level() > 0,
                        values: c.num_values().max(0) as u64,
                        chunk: start as u64..end as u64,
                        // The chunk's pages are looked at only when they are read whole.
                        as_dictionary: bound.is_empty() && as_dictionary.contains(&j),
                    });
                }
            }
            plans.push_back(GroupPlan { index: g, chunks, probes, whole: bound.is_empty() });
        }

        let opened = ParquetOpenedOut {
            fields,
            kinds,
            pushed,
            exact,
            row_groups: groups.len() as u32,
            row_groups_read: selected.len() as u32,
            aggregated: aggregates.is_some(),
        };
        // Aggregating, no batch crosses to JS: larger batches cost less per row.
        let batch_rows = if aggregates.is_some() { 1 << 16 } else { self.query.batch_rows };
        let plan = Plan { arrow, projection, bound, exact, batch_rows, groups: plans };
        self.phase = Box::new(plan).next_group(aggregates)?;
        Ok(opened)
    }

    /// Probing: asks for the group's dictionary pages (its whole chunks when the decoder reads them whole:
    /// they stay in `pushed` for it), then sizes the batches by their longest entries and builds the group's
    /// decoder.
    fn probe(&mut self, pushed: &[(Range<u64>, Bytes)]) -> ScanResult<Probed> {
        let Phase::Probing { group, .. } = &self.phase else {
            return Ok(Probed::Decode { keep_pushed: false });
        };
        if pushed.is_empty() {
            let ranges: Vec<Range<u64>> = if group.whole {
                let mut r: Vec<Range<u64>> = group.chunks.iter().map(|c| c.range.clone()).collect();
                r.sort_unstable_by_key(|x| (x.start, x.end));
                r.dedup();
                r
            } else {
                group.probes.iter().map(|p| p.range.clone()).collect()
            };
            return Ok(Probed::Ask(StepOut::Needs(ranges)));
        }
        let mut longest = Vec::with_capacity(group.probes.len());
        let mut as_dictionary = Vec::new();
        let slice = |want: &Range<u64>| {
            let (r, b) = pushed.iter().find(|(r, _)| r.start <= want.start && r.end >= want.end)?;
            let at = (want.start - r.start) as usize;
            Some(b.slice(at..at + (want.end - want.start) as usize))
        };
        for p in group.probes.iter() {
            // A chunk read as a dictionary array does not expand: no need to inflate its dictionary.
            if p.as_dictionary && slice(&p.chunk).is_some_and(|c| guard::dictionary_only(&c)) {
                as_dictionary.push(p.leaf);
                longest.push(0);
                continue;
            }
            let Some(bytes) = slice(&p.range) else {
                return Err(ScanError::parsing("A dictionary page was not read."));
            };
            longest.push(guard::dictionary_max_entry(p.codec, &bytes)?);
        }
        let Phase::Probing { plan, group, aggregates } = std::mem::replace(&mut self.phase, Phase::Done) else {
            unreachable!()
        };
        let rows = guard::rows_within_expansion(&group.probes, &longest, plan.batch_rows)?;
        let decoder = plan.decoder(group.index, rows, &as_dictionary)?;
        self.phase = Phase::Decoding { decoder, chunks: group.chunks, plan, aggregates };
        Ok(Probed::Decode { keep_pushed: group.whole })
    }

    fn new(file_size: u64, query: Query) -> ScanState {
        ScanState { file_size, query, phase: Phase::New, asked: Vec::new(), spans: SpanPool::default() }
    }

    /// One step, given the bytes read for the ranges the last step asked for, as spans of the object that
    /// hold them (a merged read holds several ranges and the gaps between them): each asked range is cut out
    /// of its span, so the scan sees exactly the ranges it asked for, whatever the pieces were.
    fn next(&mut self, spans: Vec<(Range<u64>, Bytes)>) -> ScanResult<StepOut> {
        for (r, b) in &spans {
            if r.end < r.start || b.len() as u64 != r.end - r.start || r.end > self.file_size {
                return Err(ScanError::parsing("Short read of the object."));
            }
        }
        let asked = std::mem::take(&mut self.asked);
        let pushed = if asked.is_empty() {
            spans
        } else {
            let cut = |want: Range<u64>| -> ScanResult<(Range<u64>, Bytes)> {
                if want.is_empty() {
                    return Ok((want, Bytes::new()));
                }
                let (r, b) = spans
                    .iter()
                    .find(|(r, _)| r.start <= want.start && r.end >= want.end)
                    .ok_or_else(|| ScanError::parsing("Short read of the object."))?;
                let at = (want.start - r.start) as usize;
                let bytes = b.slice(at..at + (want.end - want.start) as usize);
                Ok((want, bytes))
            };
            asked.into_iter().map(cut).collect::<ScanResult<Vec<_>>>()?
        };
        let out = self.step(pushed)?;
        if let StepOut::Needs(ranges) = &out {
            self.asked = ranges.clone();
        }
        Ok(out)
    }

    fn step(&mut self, mut pushed: Vec<(Range<u64>, Bytes)>) -> ScanResult<StepOut> {
        // One turn per row group: a group that decodes without asking for more (all rows filtered out)
        // moves on to the next one here.
        loop {
            if matches!(self.phase, Phase::Probing { .. }) {
                match self.probe(&pushed)? {
                    Probed::Ask(step) => return Ok(step),
                    Probed::Decode { keep_pushed: false } => pushed.clear(),
                    Probed::Decode { keep_pushed: true } => {}
                }
            }
            if let Phase::Finishing(aggs) = &self.phase {
                let out = StepOut::Aggregates(results_json(aggs));
                self.phase = Phase::Done;
                return Ok(out);
            }
            let Phase::Decoding { decoder, chunks, aggregates, .. } = &mut self.phase else {
                return Ok(StepOut::Done);
            };
            if !pushed.is_empty() {
                for (r, b) in &pushed {
                    guard::check_pages(chunks, r, b)?;
                }
                let (ranges, bufs): (Vec<_>, Vec<_>) = std::mem::take(&mut pushed).into_iter().unzip();
                decoder.push_ranges(ranges, bufs)?;
            }
            loop {
                match decoder.try_decode()? {
                    DecodeResult::NeedsData(ranges) => return Ok(StepOut::Needs(ranges)),
                    DecodeResult::Data(batch) if batch.num_rows() == 0 => continue,
                    DecodeResult::Data(batch) => match aggregates {
                        Some(aggs) => {
                            for (a, column) in aggs.iter_mut() {
                                a.add(&batch, *column)?;
                            }
                        }
                        None => return Ok(StepOut::Batch(encode::encode_batch(&batch)?)),
                    },
                    DecodeResult::Finished => break,
                }
            }
            let Phase::Decoding { plan, aggregates, .. } = std::mem::replace(&mut self.phase, Phase::Done) else {
                unreachable!()
            };
            self.phase = plan.next_group(aggregates)?;
        }
    }
}

pub struct ParquetOpenedOut {
    fields: Vec<String>,
    kinds: Vec<String>,
    pushed: u32,
    exact: bool,
    row_groups: u32,
    row_groups_read: u32,
    aggregated: bool,
}

/// A column's type as the evaluator may count on it (ParquetOpened.kinds).
fn static_kind(t: &DataType) -> &'static str {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => "int",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "float",
        DataType::Dictionary(_, v) => static_kind(v),
        _ => "",
    }
}

/// What probing a group's dictionaries came to: a read to ask for, or the decoder built (and whether the bytes
/// pushed for the probe are the decoder's too).
enum Probed {
    Ask(StepOut),
    Decode { keep_pushed: bool },
}

pub enum StepOut {
    Needs(Vec<Range<u64>>),
    Batch(Vec<u8>),
    /// The aggregates' results (JSON), and the end.
    Aggregates(String),
    Done,
}

fn results_json(aggs: &[(Aggregate, usize)]) -> String {
    let mut out = String::from("[");
    for (k, (a, _)) in aggs.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        a.result_json(&mut out);
    }
    out.push(']');
    out
}

/// Runs a step of the scan; a panic of the crate on hostile data becomes ParquetParsingError and
/// ends the scan.
fn guarded<T>(state: &mut ScanState, f: impl FnOnce(&mut ScanState) -> ScanResult<T>) -> Result<T> {
    let r = catch_unwind(AssertUnwindSafe(|| f(state)));
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            state.phase = Phase::Done;
            Err(e.into_napi())
        }
        Err(_) => {
            state.phase = Phase::Done;
            Err(ScanError::parsing("Invalid Parquet data.").into_napi())
        }
    }
}

pool_task! {
    /// Off-thread `ParquetScan.open`.
    ParquetOpenTask { claim: Claim<ScanState>, footer: Buffer } -> ParquetOpened => |t| {
        let o = t.claim.with(|s| guarded(s, |s| s.open(&t.footer)))?;
        Ok(ParquetOpened {
            fields: o.fields, kinds: o.kinds, pushed: o.pushed, exact: o.exact, row_groups: o.row_groups,
            row_groups_read: o.row_groups_read, aggregated: o.aggregated,
        })
    }
}

/// The task of `ParquetScan.next`: the step runs on the pool, its batch becomes a Buffer on the JS thread.
pub struct ParquetNextTask {
    claim: Claim<ScanState>,
    ranges: Vec<f64>,
    buffers: Vec<Buffer>,
}

#[napi]
impl Task for ParquetNextTask {
    type Output = StepOut;
    type JsValue = ParquetStep;

    fn compute(&mut self) -> Result<StepOut> {
        let buffers: Vec<&[u8]> = self.buffers.iter().map(|b| &b[..]).collect();
        self.claim.with(|s| {
            let spans = join_pieces(&mut s.spans, &self.ranges, &buffers);
            guarded(s, |s| s.next(spans))
        })
    }

    fn resolve(&mut self, _env: Env, out: StepOut) -> Result<ParquetStep> {
        Ok(match out {
            StepOut::Needs(r) => ParquetStep {
                needs: Some(r.iter().flat_map(|x| [x.start as f64, x.end as f64]).collect()),
                batch: None,
                aggregates: None,
                done: false,
            },
            StepOut::Batch(b) => ParquetStep { needs: None, batch: Some(b.into()), aggregates: None, done: false },
            StepOut::Aggregates(j) => ParquetStep { needs: None, batch: None, aggregates: Some(j), done: true },
            StepOut::Done => ParquetStep { needs: None, batch: None, aggregates: None, done: true },
        })
    }
}

/// A scan of one Parquet object for one query. Calls apply in order: await each before the next.
#[napi]
pub struct ParquetScan {
    shared: Shared<ScanState>,
}

#[napi]
impl ParquetScan {
    /// `fileSize`: the object's size; `query`: what the query needs (see ParquetQuery).
    #[napi(constructor)]
    pub fn new(file_size: f64, query: ParquetQuery) -> Result<Self> {
        if !(file_size >= 0.0 && file_size <= 2f64.powi(53)) {
            return Err(invalid("ParquetScan: fileSize must be a byte count"));
        }
        let query = Query::from_js(query)?;
        let state = ScanState::new(file_size as u64, query);
        Ok(ParquetScan { shared: Shared::new(state) })
    }

    /// Parses and checks the footer (the bytes before the last 8), prunes row groups and plans the
    /// reads, on the libuv pool.
    #[napi]
    pub fn open(&self, footer: Buffer) -> Result<AsyncTask<ParquetOpenTask>> {
        Ok(AsyncTask::new(ParquetOpenTask { claim: self.shared.claim("ParquetScan")?, footer }))
    }

    /// Hands over the bytes of the ranges asked for by the previous step, in pieces of the object
    /// (`ranges`: start, end pairs, one Buffer each, in any split: contiguous pieces are joined, each asked
    /// range cut out of the span holding it; the buffers are copied, the caller may reuse them once this
    /// settles) and decodes on, on the libuv pool: resolves with more ranges to read, a batch, or done.
    #[napi]
    pub fn next(&self, ranges: Vec<f64>, buffers: Vec<Buffer>) -> Result<AsyncTask<ParquetNextTask>> {
        if ranges.len() != buffers.len() * 2 || ranges.iter().any(|x| !(*x >= 0.0 && *x <= 2f64.powi(53))) {
            return Err(invalid("ParquetScan.next: one start, end pair per buffer"));
        }
        Ok(AsyncTask::new(ParquetNextTask { claim: self.shared.claim("ParquetScan")?, ranges, buffers }))
    }
}

#[cfg(test)]
mod tests;
