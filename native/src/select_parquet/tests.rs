//! The scan driven as the TS face drives it (footer, then ranges on demand), over files written here
//! with the crate's writer; and a seeded fuzz of hostile bytes: every outcome is rows or a typed error.
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::WriterProperties;

use super::aggregate::Func;
use super::predicate::{Lit, Op};
use super::query::Conjunct;
use super::spans::SpanPool;
use super::*;

fn file(rows: usize, per_group: usize, codec: Compression) -> Vec<u8> {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows as i64));
    let name: ArrayRef = Arc::new(StringArray::from_iter_values((0..rows).map(|i| format!("n{i:05}"))));
    let dec: ArrayRef = Arc::new(
        Decimal128Array::from_iter_values((0..rows).map(|i| i as i128 * 125 - 30000))
            .with_precision_and_scale(20, 2)
            .unwrap(),
    );
    let ts: ArrayRef = Arc::new(TimestampMicrosecondArray::from_iter_values(
        (0..rows).map(|i| 1_704_067_200_000_000 + i as i64 * 1_000_001),
    ));
    let batch = RecordBatch::try_from_iter([("id", id), ("name", name), ("dec", dec), ("ts", ts)]).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(per_group)).set_compression(codec).build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

fn query(columns: Option<&[&str]>, conjuncts: Vec<Conjunct>, whole: bool) -> Query {
    Query {
        columns: columns.map(|c| c.iter().map(|s| s.to_string()).collect()),
        aggregates: vec![],
        conjuncts,
        prune_only: vec![],
        whole_where: whole,
        range: None,
        batch_rows: 100,
    }
}

fn conj(col: &str, op: Op, values: Vec<Lit>) -> Conjunct {
    Conjunct { steps: vec![(col.to_string(), false)], op, values }
}

struct Outcome {
    opened: ParquetOpenedOut,
    rows: usize,
    bytes_read: u64,
    aggregates: Option<String>,
    /// The largest batch's row count.
    max_batch: usize,
    /// Steps handed bytes, and the span buffers allocated for them (not reused).
    steps_fed: usize,
    fresh: usize,
}

fn run(bytes: &[u8], q: Query) -> ScanResult<Outcome> {
    let exact = |_: &mut SpanPool, ranges: &[Range<u64>]| {
        ranges.iter().map(|r| (r.clone(), Bytes::copy_from_slice(&bytes[r.start as usize..r.end as usize]))).collect()
    };
    run_fed(bytes, q, &exact)
}

/// The ranges asked for as the TS side hands them over: one read from the first start to the last end,
/// in pieces of `piece` bytes (the source's chunks), joined by `join_pieces`.
fn in_pieces(bytes: &[u8], piece: usize) -> impl Fn(&mut SpanPool, &[Range<u64>]) -> Vec<(Range<u64>, Bytes)> + '_ {
    move |pool: &mut SpanPool, ranges: &[Range<u64>]| {
        let (Some(a), Some(z)) = (ranges.iter().map(|r| r.start).min(), ranges.iter().map(|r| r.end).max()) else {
            return vec![];
        };
        let (mut starts, mut pieces) = (Vec::new(), Vec::new());
        for p in (a as usize..z as usize).step_by(piece) {
            let q = (p + piece).min(z as usize);
            starts.extend([p as f64, q as f64]);
            pieces.push(&bytes[p..q]);
        }
        join_pieces(pool, &starts, &pieces)
    }
}

type Feed<'a> = dyn Fn(&mut SpanPool, &[Range<u64>]) -> Vec<(Range<u64>, Bytes)> + 'a;

fn run_fed(bytes: &[u8], q: Query, feed: &Feed) -> ScanResult<Outcome> {
    let n = bytes.len();
    if n < 12 {
        return Err(ScanError::parsing("small"));
    }
    let len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    if len > n - 8 {
        return Err(ScanError::parsing("footer"));
    }
    let mut s = ScanState::new(n as u64, q);
    let opened = run_guarded(&mut s, |s| s.open(&bytes[n - 8 - len..n - 8]))?;
    let (mut rows, mut bytes_read, mut pushed, mut max_batch, mut steps_fed) = (0, 0, Vec::new(), 0, 0);
    loop {
        match run_guarded(&mut s, |s| s.next(std::mem::take(&mut pushed)))? {
            StepOut::Needs(ranges) => {
                bytes_read += ranges.iter().map(|r| r.end - r.start).sum::<u64>();
                pushed = feed(&mut s.spans, &ranges);
                steps_fed += 1;
            }
            StepOut::Batch(b) => {
                let n = u32::from_le_bytes(b[0..4].try_into().unwrap()) as usize;
                rows += n;
                max_batch = max_batch.max(n);
            }
            StepOut::Done => {
                let fresh = s.spans.fresh();
                return Ok(Outcome { opened, rows, bytes_read, aggregates: None, max_batch, steps_fed, fresh });
            }
            StepOut::Aggregates(j) => {
                let fresh = s.spans.fresh();
                return Ok(Outcome { opened, rows, bytes_read, aggregates: Some(j), max_batch, steps_fed, fresh });
            }
        }
    }
}

/// `guarded` without napi's error type: the code and the message.
fn run_guarded<T>(s: &mut ScanState, f: impl FnOnce(&mut ScanState) -> ScanResult<T>) -> ScanResult<T> {
    match catch_unwind(AssertUnwindSafe(|| f(s))) {
        Ok(r) => r,
        Err(_) => Err(ScanError::parsing("panic")),
    }
}

#[test]
fn reads_all_rows_and_prunes_row_groups_by_statistics() {
    let bytes = file(1000, 100, Compression::SNAPPY);
    let all = run(&bytes, query(None, vec![], true)).unwrap();
    assert_eq!((all.rows, all.opened.row_groups, all.opened.row_groups_read), (1000, 10, 10));
    let q = query(Some(&["id"]), vec![conj("id", Op::Between, vec![Lit::Int(250), Lit::Int(299)])], true);
    let some = run(&bytes, q).unwrap();
    assert_eq!((some.rows, some.opened.row_groups_read, some.opened.exact), (50, 1, true));
    assert!(some.bytes_read * 20 < all.bytes_read, "{} vs {}", some.bytes_read, all.bytes_read);
}

#[test]
fn conjuncts_of_other_kinds_stay_with_the_evaluator() {
    let bytes = file(100, 50, Compression::UNCOMPRESSED);
    // id < 'abc' compares a number with text: not pushed; id = 3 after it filters no row, it only prunes the
    // row group of ids 50-99.
    let q = query(
        None,
        vec![conj("id", Op::Lt, vec![Lit::Str("abc".into())]), conj("id", Op::Eq, vec![Lit::Int(3)])],
        true,
    );
    let o = run(&bytes, q).unwrap();
    assert_eq!((o.opened.pushed, o.opened.exact, o.rows, o.opened.row_groups_read), (0, false, 50, 1));
    // A pushed prefix drops only rows where it is false.
    // dec = id * 1.25 - 300: dec >= -270 holds from id 24 on.
    let q = query(None, vec![conj("DEC", Op::Ge, vec![Lit::Int(-270)]), conj("nope", Op::Eq, vec![Lit::Int(3)])], true);
    let o = run(&bytes, q).unwrap();
    assert_eq!((o.opened.pushed, o.opened.exact, o.rows), (1, false, 100 - 24));
    let q = query(None, vec![conj("ts", Op::Lt, vec![Lit::Ts(1_704_067_200_000_000_000 + 5_000_005_000)])], true);
    assert_eq!(run(&bytes, q).unwrap().rows, 5);
}

#[test]
fn bombs_and_lies_are_typed_errors() {
    let bytes = file(200, 100, Compression::GZIP(GzipLevel::default()));
    assert_eq!(run(&bytes, query(None, vec![], true)).unwrap().rows, 200);
    // A page declaring far more than its chunk.
    let mut s = ScanState::new(0, query(None, vec![], true));
    let footer_len = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap()) as usize;
    s.file_size = bytes.len() as u64;
    s.open(&bytes[bytes.len() - 8 - footer_len..bytes.len() - 8]).unwrap();
    // Text columns are dictionary-encoded: their dictionary pages are probed before decoding starts.
    let chunks = match &s.phase {
        Phase::Probing { group, .. } => &group.chunks,
        Phase::Decoding { chunks, .. } => chunks,
        _ => panic!("open must plan the first row group"),
    };
    let mut small = chunks[0].clone();
    small.uncompressed = 10;
    let r = &chunks[0].range;
    let err = guard::check_pages(&[small], r, &bytes[r.start as usize..r.end as usize]).unwrap_err();
    assert_eq!(err.code, "OverMaxParquetBlockSize");
}

#[test]
fn a_dictionary_of_long_entries_cuts_the_batches() {
    // One 300 KB entry, 3,000 rows pointing at it: 12 KB on disk, 900 MB decoded. A batch of 8,192 rows would
    // hold 2.4 GB; the probe of the dictionary page sizes batches to 256 MB (873 rows).
    let long = "x".repeat(300 * 1024);
    let keys = arrow_array::Int32Array::from(vec![0; 3000]);
    let dict = arrow_array::DictionaryArray::<arrow_array::types::Int32Type>::try_new(
        keys,
        Arc::new(StringArray::from(vec![long.as_str()])),
    )
    .unwrap();
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(0..3000));
    let batch = RecordBatch::try_from_iter([("s", Arc::new(dict) as ArrayRef), ("id", id)]).unwrap();
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut bytes = Vec::new();
    let mut w = ArrowWriter::try_new(&mut bytes, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    assert!(bytes.len() < 100_000, "{} bytes", bytes.len());

    let mut q = query(None, vec![], true);
    q.batch_rows = 8192;
    let o = run(&bytes, q).unwrap();
    assert_eq!(o.rows, 3000);
    let bound = (guard::MAX_BATCH_EXPANSION / (300 * 1024)) as usize;
    assert!(o.max_batch <= bound && o.max_batch > 0, "batches of {} rows", o.max_batch);
    // Without the long column nothing is probed: the batches keep their size.
    let mut q = query(Some(&["id"]), vec![], true);
    q.batch_rows = 8192;
    assert_eq!(run(&bytes, q).unwrap().max_batch, 3000);
}

/// xorshift64*: a seeded generator for the fuzz cases (CAIRN_TEST_SEED replays one run).
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.max(1);
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn fuzz_mutated_files_give_rows_or_typed_errors() {
    let seed = std::env::var("CAIRN_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_cafe);
    eprintln!("fuzz seed {seed} (CAIRN_TEST_SEED replays)");
    let mut next = rng(seed);
    let bases = [
        file(300, 100, Compression::SNAPPY),
        file(300, 100, Compression::GZIP(GzipLevel::default())),
        file(300, 300, Compression::UNCOMPRESSED),
    ];
    for round in 0..300 {
        let mut bytes = bases[round % bases.len()].clone();
        let edits = 1 + next() % 8;
        for _ in 0..edits {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        let q = query(None, vec![conj("id", Op::Ge, vec![Lit::Int((next() % 300) as i128)])], round % 2 == 0);
        match run(&bytes, q) {
            Ok(o) => assert!(o.rows <= 300),
            Err(e) => assert!(
                ["ParquetParsingError", "OverMaxParquetBlockSize", "ParquetUnsupportedCompressionCodec"]
                    .contains(&e.code),
                "round {round}: {e:?}"
            ),
        }
    }
}

#[test]
fn aggregates_are_computed_in_the_scan() {
    let bytes = file(1000, 100, Compression::SNAPPY);
    let col = |c: &str| Some(vec![(c.to_string(), false)]);
    let mut q = query(None, vec![conj("id", Op::Ge, vec![Lit::Int(10)])], true);
    q.aggregates = vec![
        (Func::CountStar, None),
        (Func::Sum, col("id")),
        (Func::Avg, col("dec")),
        (Func::Min, col("name")),
        (Func::Max, col("ts")),
    ];
    let o = run(&bytes, q).unwrap();
    assert!(o.opened.aggregated);
    assert_eq!(o.rows, 0);
    let sum: i64 = (10..1000).sum();
    let dec: i64 = (10..1000).map(|i| i * 125 - 30000).sum();
    assert_eq!(
        o.aggregates.unwrap(),
        format!(
            r#"[{{"t":"int","v":"990"}},{{"t":"int","v":"{sum}","scale":0,"n":990}},{{"t":"avgdec","v":"{dec}","scale":2,"n":990}},{{"t":"string","v":"n00010"}},{{"t":"time","v":"{}","digits":6}}]"#,
            (1_704_067_200_000_000i128 + 999 * 1_000_001) * 1000
        )
    );
    // A WHERE the scan cannot evaluate whole: the evaluator aggregates.
    let mut q = query(None, vec![conj("id", Op::Ge, vec![Lit::Str("x".into())])], true);
    q.aggregates = vec![(Func::CountStar, None)];
    assert!(!run(&bytes, q).unwrap().opened.aggregated);
}

#[test]
fn joins_contiguous_pieces_and_leaves_a_misfit_alone() {
    let data: Vec<u8> = (0..12).collect();
    let ranges = [0.0, 3.0, 3.0, 5.0, 7.0, 9.0, 9.0, 12.0, 12.0, 13.0];
    let pieces = [&data[0..3], &data[3..5], &data[7..9], &data[9..11], &data[11..12]];
    let spans = join_pieces(&mut SpanPool::default(), &ranges, &pieces);
    let got: Vec<(Range<u64>, Vec<u8>)> = spans.into_iter().map(|(r, b)| (r, b.to_vec())).collect();
    assert_eq!(
        got,
        vec![
            (0..5, (0..5).collect()),
            (7..9, vec![7, 8]),
            (9..12, vec![9, 10]), // two bytes for three: not joined with the next, refused by the step
            (12..13, vec![11]),
        ]
    );
}

#[test]
fn pieces_of_any_size_give_the_same_scan_and_a_missing_range_is_a_short_read() {
    let bytes = file(1000, 100, Compression::SNAPPY);
    let q = || query(None, vec![conj("id", Op::Ge, vec![Lit::Int(250)])], true);
    let want = run(&bytes, q()).unwrap();
    for piece in [1, 7, 4096, 1 << 20] {
        let got = run_fed(&bytes, q(), &in_pieces(&bytes, piece)).unwrap();
        assert_eq!((got.rows, got.bytes_read), (want.rows, want.bytes_read), "{piece}-byte pieces");
    }
    // Each asked range but the last one's final byte: the step refuses it.
    let short = |pool: &mut SpanPool, ranges: &[Range<u64>]| {
        let mut spans = in_pieces(&bytes, 4096)(pool, ranges);
        if let Some((r, b)) = spans.pop() {
            spans.push((r.start..r.end - 1, b.slice(..b.len() - 1)));
        }
        spans
    };
    let err = run_fed(&bytes, q(), &short).err().expect("a short read fails the scan");
    assert!(err.message.contains("Short read"), "{}", err.message);
}

#[test]
fn span_buffers_are_reused_from_row_group_to_row_group() {
    // 10 row groups, read whole (all rows), with a filter (the row filter reads a group in two steps), and
    // aggregated; every answer equals the exact scan's, and the spans come from at most two buffers.
    let bytes = file(1000, 100, Compression::SNAPPY);
    let aggregated = || {
        let mut q = query(None, vec![], true);
        // SUM needs the data (COUNT(*) and MAX alone come from the statistics).
        q.aggregates = vec![
            (Func::CountStar, None),
            (Func::Max, Some(vec![("name".to_string(), false)])),
            (Func::Sum, Some(vec![("id".to_string(), false)])),
        ];
        q
    };
    let queries: [&dyn Fn() -> Query; 3] = [
        &|| query(None, vec![], true),
        &|| query(None, vec![conj("id", Op::Ge, vec![Lit::Int(250)])], true),
        &aggregated,
    ];
    for q in queries {
        let want = run(&bytes, q()).unwrap();
        for piece in [1, 4096, 1 << 20] {
            let got = run_fed(&bytes, q(), &in_pieces(&bytes, piece)).unwrap();
            assert_eq!((got.rows, &got.aggregates), (want.rows, &want.aggregates), "{piece}-byte pieces");
            assert!(got.steps_fed >= 10, "{} steps", got.steps_fed);
            assert!(got.fresh <= 2, "{} buffers allocated for {} steps", got.fresh, got.steps_fed);
        }
    }
}

#[test]
fn a_span_buffer_comes_back_when_its_last_view_is_dropped() {
    let mut pool = SpanPool::default();
    let data: Vec<u8> = (0..100).collect();
    let spans = join_pieces(&mut pool, &[0.0, 60.0, 60.0, 100.0], &[&data[..60], &data[60..]]);
    assert_eq!(spans.len(), 1);
    let view = spans[0].1.slice(10..20);
    drop(spans);
    // Still viewed: the next span cannot take its buffer.
    let other = join_pieces(&mut pool, &[0.0, 50.0], &[&data[..50]]);
    assert_eq!(pool.fresh(), 2);
    assert_eq!(&view[..], &data[10..20]);
    drop(view);
    drop(other);
    // Both back: a span of 56 bytes takes the smallest that holds it (the 50-byte one has 56 of capacity,
    // an eighth to spare), and its bytes are its own.
    let again = join_pieces(&mut pool, &[0.0, 56.0], &[&data[44..]]);
    assert_eq!((pool.fresh(), &again[0].1[..]), (2, &data[44..]));
    let third = join_pieces(&mut pool, &[0.0, 60.0], &[&data[40..]]);
    assert_eq!((pool.fresh(), &third[0].1[..]), (2, &data[40..]));
    // A span larger than any free buffer grows one (counted as allocated).
    drop((again, third));
    let big: Vec<u8> = vec![7; 1000];
    let large = join_pieces(&mut pool, &[0.0, 1000.0], &[&big]);
    assert_eq!((pool.fresh(), &large[0].1[..]), (3, &big[..]));
    assert!(large[0].1.len() == 1000);
}

#[test]
fn the_pool_keeps_a_few_buffers_and_none_once_the_scan_is_gone() {
    let mut pool = SpanPool::default();
    let data = [1u8; 10];
    let many: Vec<_> = (0..10).map(|_| join_pieces(&mut pool, &[0.0, 10.0], &[&data])).collect();
    drop(many);
    for _ in 0..10 {
        drop(join_pieces(&mut pool, &[0.0, 10.0], &[&data]));
    }
    assert_eq!(pool.fresh(), 10);
    let span = join_pieces(&mut pool, &[0.0, 10.0], &[&data]);
    drop(pool);
    // Its pool is gone: the buffer is freed with the last view (no panic, nothing kept).
    assert_eq!(&span[0].1[..], &data[..]);
    drop(span);
}

/// One row group per `per_group` rows of `batch`, written with `props` (plus the row group size).
fn written(
    batch: &RecordBatch,
    per_group: usize,
    props: parquet::file::properties::WriterPropertiesBuilder,
) -> Vec<u8> {
    let props = props.set_max_row_group_row_count(Some(per_group)).build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    out
}

fn aggregating(aggs: &[(Func, Option<&str>)]) -> Query {
    let mut q = query(None, vec![], true);
    q.aggregates = aggs.iter().map(|(f, c)| (*f, c.map(|c| vec![(c.to_string(), false)]))).collect();
    q
}

#[test]
fn count_min_and_max_come_from_exact_statistics_and_nothing_else_does() {
    use parquet::file::properties::EnabledStatistics;
    // Text with nulls and long shared prefixes, integers with nulls, a time column.
    let rows = 1000;
    let name: ArrayRef = Arc::new(StringArray::from_iter(
        (0..rows).map(|i| (i % 7 != 3).then(|| format!("shared-prefix-{:05}", (i * 7919) % 1000))),
    ));
    let id: ArrayRef =
        Arc::new(Int64Array::from_iter((0..rows).map(|i| (i % 5 != 0).then_some(i as i64 * 37 % 1001 - 500))));
    let ts: ArrayRef = Arc::new(TimestampMicrosecondArray::from_iter_values((0..rows).map(|i| i as i64)));
    let batch = RecordBatch::try_from_iter([("name", name), ("id", id), ("ts", ts)]).unwrap();
    let answerable = [
        (Func::CountStar, None),
        (Func::Count, Some("name")),
        (Func::Min, Some("name")),
        (Func::Max, Some("name")),
        (Func::Count, Some("id")),
        (Func::Min, Some("id")),
        (Func::Max, Some("id")),
    ];
    let with_stats = written(&batch, 100, WriterProperties::builder());
    let o = run(&with_stats, aggregating(&answerable)).unwrap();
    assert!(o.opened.aggregated);
    assert_eq!((o.bytes_read, o.opened.row_groups_read, o.opened.row_groups), (0, 0, 10), "no data page read");
    let want = o.aggregates.unwrap();
    let count = |f: fn(usize) -> bool| (0..rows).filter(|&i| f(i)).count();
    let ids = (0..rows).filter(|i| i % 5 != 0).map(|i| i as i64 * 37 % 1001 - 500);
    let names = (0..rows).filter(|i| i % 7 != 3).map(|i| (i * 7919) % 1000);
    assert_eq!(
        want,
        format!(
            r#"[{{"t":"int","v":"1000"}},{{"t":"int","v":"{}"}},{{"t":"string","v":"shared-prefix-{:05}"}},{{"t":"string","v":"shared-prefix-{:05}"}},{{"t":"int","v":"{}"}},{{"t":"int","v":"{}"}},{{"t":"int","v":"{}"}}]"#,
            count(|i| i % 7 != 3),
            names.clone().min().unwrap(),
            names.max().unwrap(),
            count(|i| i % 5 != 0),
            ids.clone().min().unwrap(),
            ids.max().unwrap()
        )
    );
    // One column, not the first: its statistics, not the first column's.
    let o = run(&with_stats, aggregating(&[(Func::Min, Some("id")), (Func::Max, Some("id"))])).unwrap();
    assert_eq!(o.bytes_read, 0);
    assert!(want.ends_with(&o.aggregates.unwrap()[1..]));
    // The same answers decoded: without statistics, with text bounds truncated (not exact), and when another
    // aggregate of the query (SUM, MIN of a time column) needs the data anyway.
    let none = written(&batch, 100, WriterProperties::builder().set_statistics_enabled(EnabledStatistics::None));
    let truncated = written(&batch, 100, WriterProperties::builder().set_statistics_truncate_length(Some(8)));
    for (what, bytes) in [("no statistics", &none), ("truncated", &truncated)] {
        let o = run(bytes, aggregating(&answerable)).unwrap();
        assert!(o.bytes_read > 0, "{what}: decoded");
        assert_eq!(o.aggregates.unwrap(), want, "{what}");
    }
    for extra in [(Func::Sum, Some("id")), (Func::Min, Some("ts"))] {
        let mut aggs = answerable.to_vec();
        aggs.push(extra);
        let o = run(&with_stats, aggregating(&aggs)).unwrap();
        assert!(o.bytes_read > 0);
        assert!(o.aggregates.unwrap().starts_with(&want[..want.len() - 1]));
    }
    // A WHERE: the statistics do not answer, the rows are read.
    let mut q = aggregating(&answerable);
    q.conjuncts = vec![conj("id", Op::Ge, vec![Lit::Int(-1000)])];
    let o = run(&with_stats, q).unwrap();
    assert!(o.opened.aggregated && o.bytes_read > 0);
}

#[test]
fn text_statistics_answer_only_where_byte_order_is_js_order() {
    // UTF-8 byte order puts U+FFFD before U+1F600; JS order puts it after. MAX's bound holds a 4-byte sequence:
    // decoded. MIN's bound holds no U+E000..U+FFFF character: answered.
    let s: ArrayRef = Arc::new(StringArray::from(vec!["b\u{FFFD}", "a", "b\u{1F600}"]));
    let batch = RecordBatch::try_from_iter([("s", s)]).unwrap();
    let bytes = written(&batch, 10, WriterProperties::builder());
    let o = run(&bytes, aggregating(&[(Func::Min, Some("s"))])).unwrap();
    assert_eq!((o.bytes_read, o.aggregates.unwrap().as_str()), (0, r#"[{"t":"string","v":"a"}]"#));
    let o = run(&bytes, aggregating(&[(Func::Max, Some("s"))])).unwrap();
    assert!(o.bytes_read > 0);
    assert_eq!(o.aggregates.unwrap(), "[{\"t\":\"string\",\"v\":\"b\u{FFFD}\"}]");
    // MIN whose bound has a U+E000..U+FFFF character, under a value beyond U+FFFF in JS order: decoded.
    let s: ArrayRef = Arc::new(StringArray::from(vec!["\u{FFFD}", "\u{1F600}"]));
    let bytes = written(&RecordBatch::try_from_iter([("s", s)]).unwrap(), 10, WriterProperties::builder());
    let o = run(&bytes, aggregating(&[(Func::Min, Some("s"))])).unwrap();
    assert!(o.bytes_read > 0);
    assert_eq!(o.aggregates.unwrap(), "[{\"t\":\"string\",\"v\":\"\u{1F600}\"}]");
}
