//! Checks of a hostile file's numbers before the parquet crate acts on them.
//!
//! - The footer: schema nesting (the crate builds its schema tree by recursion), row-group and
//!   column-chunk sizes and offsets (AWS: row groups up to 512 MB uncompressed).
//! - The pages of every column chunk handed to the decoder: each header must fit its chunk and
//!   declare at most the chunk's uncompressed size; the crate allocates by that number. GZIP and
//!   Brotli pages decompress to whatever they hold (the crate reads them to the end), so their real
//!   size is measured first, with a bounded decoder, and a page that holds more than it declares (a
//!   decompression bomb) is refused before the crate inflates it.
//! - Dictionaries: a dictionary-encoded byte-array column is copied into a decoded batch entry by
//!   entry, once per row pointing at it, so one long entry and a run of repeated indices (a few
//!   compressed bytes) expand without limit. The dictionary pages of the chunks to read are looked at
//!   first and the batch's row count is cut so that their longest entries fit MAX_BATCH_EXPANSION.
use std::io::Read;
use std::ops::Range;

use parquet::basic::Compression;
use parquet::compression::{create_codec, CodecOptionsBuilder};
use parquet::file::metadata::ParquetMetaData;

use super::error::{ScanError, ScanResult};
use super::thrift;

/// AWS: Parquet row groups up to 512 MB uncompressed.
pub const MAX_ROW_GROUP_BYTES: u64 = 512 * 1024 * 1024;
/// Rows of one row group; beyond it the file is refused rather than risk memory.
pub const MAX_ROW_GROUP_ROWS: i64 = 1 << 22;
/// Footers beyond this are refused (a real one with thousands of row groups stays far below).
pub const MAX_FOOTER_BYTES: usize = 64 * 1024 * 1024;
/// Schema depth accepted (pyarrow nests a list of structs in 3-4 levels per level of data).
pub const MAX_SCHEMA_DEPTH: usize = 64;

/// Checks the footer's schema nesting on the raw bytes, before the crate parses it.
pub fn check_footer_bytes(footer: &[u8]) -> ScanResult<()> {
    if footer.len() > MAX_FOOTER_BYTES {
        return Err(ScanError::parsing(format!("The Parquet footer of {} bytes is too large.", footer.len())));
    }
    let children =
        thrift::schema_children(footer).map_err(|e| ScanError::parsing(format!("Invalid Parquet footer: {e}")))?;
    let depth =
        thrift::schema_depth(&children).map_err(|e| ScanError::parsing(format!("Invalid Parquet schema: {e}")))?;
    if depth > MAX_SCHEMA_DEPTH {
        return Err(ScanError::parsing("The Parquet schema is nested too deeply."));
    }
    Ok(())
}

/// Where a column chunk starts: its dictionary page if any (some writers put 0 there for none).
pub fn chunk_range(c: &parquet::file::metadata::ColumnChunkMetaData) -> (i64, i64) {
    let data = c.data_page_offset();
    let start = match c.dictionary_page_offset() {
        Some(d) if d > 0 => d.min(data),
        _ => data,
    };
    (start, start.saturating_add(c.compressed_size()))
}

/// Checks every number of the metadata that decoding allocates or reads by. `data_end`: where the
/// footer starts.
pub fn check_metadata(md: &ParquetMetaData, data_end: u64) -> ScanResult<()> {
    let leaves = md.file_metadata().schema_descr().num_columns();
    for rg in md.row_groups() {
        if rg.num_rows() < 0 {
            return Err(ScanError::parsing("A row group declares an invalid row count."));
        }
        if rg.num_columns() != leaves {
            return Err(ScanError::parsing("A row group does not match the schema."));
        }
        let mut uncompressed: u64 = 0;
        for c in rg.columns() {
            let (start, end) = chunk_range(c);
            if c.compressed_size() < 0 || c.uncompressed_size() < 0 || start < 4 || end as u64 > data_end {
                return Err(ScanError::parsing("A column chunk lies outside the file."));
            }
            if c.file_path().is_some() {
                return Err(ScanError::parsing("External column chunks are not supported."));
            }
            uncompressed = uncompressed.saturating_add(c.uncompressed_size() as u64);
        }
        if uncompressed > MAX_ROW_GROUP_BYTES || rg.total_byte_size() as u64 > MAX_ROW_GROUP_BYTES {
            return Err(ScanError::block_size("A row group is larger than 512 MB uncompressed."));
        }
        if rg.num_rows() > MAX_ROW_GROUP_ROWS {
            return Err(ScanError::block_size(format!(
                "A row group holds {} rows; at most {MAX_ROW_GROUP_ROWS} are supported.",
                rg.num_rows()
            )));
        }
    }
    Ok(())
}

/// A column chunk of the row groups being read: its bytes, codec and declared uncompressed size.
#[derive(Clone)]
pub struct Chunk {
    pub range: Range<u64>,
    pub codec: Compression,
    pub uncompressed: u64,
}

/// Checks the pages in `bytes` (the file's bytes `range`) against the chunks they belong to.
pub fn check_pages(chunks: &[Chunk], range: &Range<u64>, bytes: &[u8]) -> ScanResult<()> {
    for chunk in chunks {
        let from = range.start.max(chunk.range.start);
        let to = range.end.min(chunk.range.end);
        if from >= to {
            continue;
        }
        let data = &bytes[(from - range.start) as usize..(to - range.start) as usize];
        check_chunk_pages(chunk, data)?;
    }
    Ok(())
}

fn check_chunk_pages(chunk: &Chunk, mut data: &[u8]) -> ScanResult<()> {
    let bad = |m: String| ScanError::parsing(format!("Invalid Parquet page: {m}"));
    let limit = chunk.uncompressed.min(MAX_ROW_GROUP_BYTES) as usize;
    while !data.is_empty() {
        let h = thrift::page_header(data).map_err(bad)?;
        let end = h.header_len.checked_add(h.compressed).filter(|&e| e <= data.len());
        let Some(end) = end else {
            return Err(bad("a page runs past its column chunk".into()));
        };
        if h.uncompressed > limit {
            return Err(ScanError::block_size(format!(
                "A page declares {} bytes uncompressed, more than its column chunk.",
                h.uncompressed
            )));
        }
        let body = &data[h.header_len..end];
        if h.is_compressed && h.levels_len <= body.len() {
            let values = &body[h.levels_len..];
            let declared = h.uncompressed.saturating_sub(h.levels_len);
            check_inflated_size(chunk.codec, values, declared)?;
        }
        data = &data[end..];
    }
    Ok(())
}

/// For the codecs the crate inflates without a bound: measures the page's real size (at most one
/// byte past what it declares) and refuses a page holding more than it declares.
fn check_inflated_size(codec: Compression, body: &[u8], declared: usize) -> ScanResult<()> {
    let cap = declared as u64 + 1;
    let produced = match codec {
        Compression::GZIP(_) => count(flate2::read::MultiGzDecoder::new(body).take(cap)),
        Compression::BROTLI(_) => count(brotli::Decompressor::new(body, 4096).take(cap)),
        _ => return Ok(()),
    };
    // A decoding error is left to the crate, which reports it with its own message.
    if let Ok(n) = produced {
        if n > declared as u64 {
            return Err(ScanError::block_size(format!(
                "A compressed page holds more than the {declared} bytes it declares."
            )));
        }
    }
    Ok(())
}

fn count(mut r: impl Read) -> std::io::Result<u64> {
    std::io::copy(&mut r, &mut std::io::sink())
}

/// Bytes the dictionary-encoded byte-array columns of one decoded batch may expand to.
pub const MAX_BATCH_EXPANSION: u64 = 256 * 1024 * 1024;

/// A dictionary page to look at before decoding: its bytes in the file (the page starts there), its codec,
/// whether its column sits in a list (a row may then hold all of the chunk's values) and the chunk's value count.
#[derive(Clone)]
pub struct DictionaryProbe {
    /// The column (leaf index): a batch holds rows of one row group, so per column the largest entry counts.
    pub leaf: usize,
    pub range: Range<u64>,
    pub codec: Compression,
    pub repeated: bool,
    pub values: u64,
    /// The whole column chunk, and whether it may be read as a dictionary array (an aggregate's text column):
    /// when its pages allow it (`dictionary_only`), the dictionary page is not inflated for the probe.
    pub chunk: Range<u64>,
    pub as_dictionary: bool,
}

/// The longest entry of the dictionary page at the start of `bytes` (PLAIN byte arrays: a u32 length, then
/// the bytes). Bombs are refused as for data pages; an entry that does not parse ends the walk (the crate
/// reports the page when it decodes it).
pub fn dictionary_max_entry(codec: Compression, bytes: &[u8]) -> ScanResult<u64> {
    let bad = |m: String| ScanError::parsing(format!("Invalid Parquet dictionary page: {m}"));
    let h = thrift::page_header(bytes).map_err(bad)?;
    let end = h.header_len.checked_add(h.compressed).filter(|&e| e <= bytes.len());
    let Some(end) = end else {
        return Err(bad("the page runs past its column chunk".into()));
    };
    if h.uncompressed as u64 > MAX_ROW_GROUP_BYTES {
        return Err(ScanError::block_size("A dictionary page is larger than 512 MB uncompressed."));
    }
    let body = &bytes[h.header_len..end];
    let inflated;
    let data: &[u8] = if matches!(codec, Compression::UNCOMPRESSED) {
        body
    } else {
        check_inflated_size(codec, body, h.uncompressed)?;
        let Some(mut c) = create_codec(codec, &CodecOptionsBuilder::default().build())? else {
            return Ok(h.uncompressed as u64);
        };
        let mut out = Vec::with_capacity(h.uncompressed);
        c.decompress(body, &mut out, Some(h.uncompressed))?;
        inflated = out;
        &inflated
    };
    let (mut longest, mut p) = (0usize, 0usize);
    while data.len() - p >= 4 {
        let n = u32::from_le_bytes([data[p], data[p + 1], data[p + 2], data[p + 3]]) as usize;
        p += 4;
        if n > data.len() - p {
            break;
        }
        longest = longest.max(n);
        p += n;
    }
    Ok(longest as u64)
}

/// True when the column chunk in `bytes` holds one dictionary page, first, and then only data pages of
/// dictionary indices. Such a chunk can be decoded to a dictionary array (keys into its one dictionary), which
/// cannot expand: the crate turns keys into values only when a second dictionary or a page of other values
/// comes, and there is none. False for anything else, a header that does not parse included.
pub fn dictionary_only(mut bytes: &[u8]) -> bool {
    let mut first = true;
    while !bytes.is_empty() {
        let Ok(h) = thrift::page_header(bytes) else {
            return false;
        };
        let ok = if first {
            h.page_type == thrift::DICTIONARY_PAGE
        } else {
            matches!(h.page_type, thrift::DATA_PAGE | thrift::DATA_PAGE_V2)
                && thrift::DICTIONARY_INDICES.contains(&h.encoding)
        };
        let end = h.header_len.checked_add(h.compressed).filter(|&e| e <= bytes.len());
        let Some(end) = end.filter(|_| ok) else {
            return false;
        };
        bytes = &bytes[end..];
        first = false;
    }
    !first
}

/// Rows per batch that keep the probed dictionaries' expansion within MAX_BATCH_EXPANSION (`longest`: the
/// longest entry of each probe, in order). A column in a list may put all its values in one row: its chunk
/// must fit the bound whole, else the file is refused.
pub fn rows_within_expansion(probes: &[DictionaryProbe], longest: &[u64], rows: usize) -> ScanResult<usize> {
    let mut by_leaf = std::collections::BTreeMap::<usize, u64>::new();
    for (p, &l) in probes.iter().zip(longest) {
        if p.repeated {
            if p.values.saturating_mul(l) > MAX_BATCH_EXPANSION {
                return Err(ScanError::block_size(
                    "A dictionary-encoded column in a list expands to more than 256 MB in one row group.",
                ));
            }
        } else {
            let e = by_leaf.entry(p.leaf).or_default();
            *e = (*e).max(l);
        }
    }
    let per_row = by_leaf.values().fold(0u64, |a, &b| a.saturating_add(b));
    Ok(MAX_BATCH_EXPANSION.checked_div(per_row).map_or(rows, |fit| rows.min(fit.max(1) as usize)))
}
