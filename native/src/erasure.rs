//! Reed-Solomon erasure coding of whole blocks (reed-solomon-simd), every layout from 1+0 to 16+16.
//!
//! A block of `n` bytes becomes `data` data shards and `parity` parity shards of `shard_len(n, data)`
//! bytes each: the block cut in `data` pieces, the last one zero-padded. Decoding needs any `data`
//! of the shards and the block length (to drop the padding). An empty block has empty shards.
use std::cell::RefCell;
use std::ops::Range;

use napi::bindgen_prelude::*;
use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};

use crate::shared::invalid;
use crate::small_decode;

/// Most data shards, and most parity shards, of a layout.
pub const MAX_SHARDS: u32 = 16;
/// Coders for shards up to this size stay cached per thread; larger ones are freed after use.
const CACHE_SHARD_LIMIT: usize = 1 << 20;
/// Bytes of each shard coded per encoder call (a multiple of 64, see `encode_into`): whole shards
/// for 1 MiB blocks, bounded memory for larger ones.
const SEGMENT: usize = 256 << 10;

thread_local! {
    static ENCODER: RefCell<Option<ReedSolomonEncoder>> = const { RefCell::new(None) };
    static DECODER: RefCell<Option<ReedSolomonDecoder>> = const { RefCell::new(None) };
}

/// Data and parity shard counts, checked.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub data: usize,
    pub parity: usize,
}

impl Layout {
    pub fn new(data: u32, parity: u32) -> Result<Layout> {
        if !(1..=MAX_SHARDS).contains(&data) || parity > MAX_SHARDS {
            return Err(invalid(format!(
                "erasure layout {data}+{parity}: data shards must be 1..=16 and parity shards 0..=16"
            )));
        }
        Ok(Layout { data: data as usize, parity: parity as usize })
    }

    pub fn total(&self) -> usize {
        self.data + self.parity
    }
}

/// Shard length for a block of `block_len` bytes cut in `data` shards: ceil(block_len / data),
/// rounded up to even (reed-solomon-simd works on 2-byte symbols); 0 for an empty block.
pub fn shard_len(block_len: usize, data: usize) -> usize {
    let s = block_len.div_ceil(data);
    s + (s & 1)
}

/// Where the shards of one block sit in one buffer: shard `i` at `offset + i * stride`, `len` long.
#[derive(Clone, Copy)]
pub struct ShardGrid {
    pub len: usize,
    pub stride: usize,
    pub offset: usize,
}

impl ShardGrid {
    /// Shards packed back to back.
    pub fn packed(len: usize) -> ShardGrid {
        ShardGrid { len, stride: len, offset: 0 }
    }

    pub fn range(&self, i: usize) -> Range<usize> {
        let start = self.offset + i * self.stride;
        start..start + self.len
    }
}

fn rs_error(e: reed_solomon_simd::Error) -> Error {
    Error::new(Status::GenericFailure, format!("Reed-Solomon: {e}"))
}

/// Runs `f` with this thread's encoder set up for `layout` and `len`-byte shards.
fn with_encoder<R>(layout: Layout, len: usize, f: impl FnOnce(&mut ReedSolomonEncoder) -> Result<R>) -> Result<R> {
    ENCODER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let encoder = match slot.as_mut() {
            Some(e) => {
                e.reset(layout.data, layout.parity, len).map_err(rs_error)?;
                e
            }
            None => slot.insert(ReedSolomonEncoder::new(layout.data, layout.parity, len).map_err(rs_error)?),
        };
        let result = f(encoder);
        if len > CACHE_SHARD_LIMIT {
            *slot = None;
        }
        result
    })
}

/// Computes the parity shards of `data` (each `len` bytes) into `parity`.
///
/// Parity symbol k depends only on data symbol k, so long shards are coded one segment at a time
/// (the codec's 64-byte chunking makes segment boundaries at multiples of 64 exact): the working set
/// stays small whatever the block size.
fn code_parity(layout: Layout, len: usize, data: &[&[u8]], parity: &mut [&mut [u8]]) -> Result<()> {
    if layout.parity == 0 || len == 0 {
        return Ok(());
    }
    let mut at = 0;
    while at < len {
        let seg = SEGMENT.min(len - at);
        with_encoder(layout, seg, |encoder| {
            for shard in data {
                encoder.add_original_shard(&shard[at..at + seg]).map_err(rs_error)?;
            }
            let result = encoder.encode().map_err(rs_error)?;
            for (dst, recovery) in parity.iter_mut().zip(result.recovery_iter()) {
                dst[at..at + seg].copy_from_slice(recovery);
            }
            Ok(())
        })?;
        at += seg;
    }
    Ok(())
}

/// Copies the data shards of `block` into `out` at `grid` (zero-padding the last).
/// `out` holds exactly `layout.total()` frames of `grid.stride` bytes.
fn copy_data_shards(block: &[u8], layout: Layout, out: &mut [u8], grid: ShardGrid) {
    if grid.stride == 0 {
        return; // an empty block, packed: nothing to write
    }
    for (i, frame) in out.chunks_exact_mut(grid.stride).take(layout.data).enumerate() {
        let start = (i * grid.len).min(block.len());
        let end = (start + grid.len).min(block.len());
        let dst = &mut frame[grid.offset..grid.offset + grid.len];
        dst[..end - start].copy_from_slice(&block[start..end]);
        dst[end - start..].fill(0);
    }
}

/// Computes the parity shards of the data shards already in `out` at `grid`.
pub fn parity_in_place(layout: Layout, out: &mut [u8], grid: ShardGrid) -> Result<()> {
    if grid.stride == 0 {
        return Ok(());
    }
    let mut frames: Vec<&mut [u8]> = out.chunks_exact_mut(grid.stride).collect();
    let (data, parity) = frames.split_at_mut(layout.data);
    let data: Vec<&[u8]> = data.iter().map(|f| &f[grid.offset..grid.offset + grid.len]).collect();
    let mut parity: Vec<&mut [u8]> = parity.iter_mut().map(|f| &mut f[grid.offset..grid.offset + grid.len]).collect();
    code_parity(layout, grid.len, &data, &mut parity)
}

/// Writes the data shards of `block` into `out` at `grid` (zero-padding the last), then the parity.
/// `out` holds exactly `layout.total()` frames of `grid.stride` bytes.
pub fn encode_into(block: &[u8], layout: Layout, out: &mut [u8], grid: ShardGrid) -> Result<()> {
    copy_data_shards(block, layout, out, grid);
    parity_in_place(layout, out, grid)
}

/// Data shards of a block that lie whole inside it (the others are partly or wholly padding).
pub fn whole_data_shards(block_len: usize, layout: Layout) -> usize {
    let len = shard_len(block_len, layout.data);
    block_len.checked_div(len).map_or(layout.data, |whole| whole.min(layout.data))
}

/// The zero-copy encode: data shards that lie whole inside `block` stay there; `out` receives the
/// remaining data shards (zero-padded) followed by the parity shards. Returns the bytes written.
pub fn encode_tail_and_parity(block: &[u8], layout: Layout, out: &mut [u8]) -> Result<usize> {
    let len = shard_len(block.len(), layout.data);
    let whole = whole_data_shards(block.len(), layout);
    let tail_count = layout.data - whole;
    let n = (tail_count + layout.parity) * len;
    check_out(out.len(), n, "encodeShards")?;
    check_disjoint(out, [block], "encodeShards")?;
    if len == 0 {
        return Ok(0);
    }
    let (tail, parity) = out[..n].split_at_mut(tail_count * len);
    for (k, dst) in tail.chunks_exact_mut(len).enumerate() {
        let start = ((whole + k) * len).min(block.len());
        let end = (start + len).min(block.len());
        dst[..end - start].copy_from_slice(&block[start..end]);
        dst[end - start..].fill(0);
    }
    let data: Vec<&[u8]> =
        (0..layout.data)
            .map(|i| {
                if i < whole {
                    &block[i * len..(i + 1) * len]
                } else {
                    &tail[(i - whole) * len..(i - whole + 1) * len]
                }
            })
            .collect();
    let mut parity: Vec<&mut [u8]> = parity.chunks_exact_mut(len).collect();
    code_parity(layout, len, &data, &mut parity)?;
    Ok(n)
}

/// Bytes needed for the output of an encode: `total` shards of `len` plus `extra` bytes each.
/// Fails when `out` shares memory with any of `inputs`: the kernels read the inputs while writing.
pub fn check_disjoint<'a>(out: &[u8], inputs: impl IntoIterator<Item = &'a [u8]>, what: &str) -> Result<()> {
    let o = out.as_ptr_range();
    for input in inputs {
        let i = input.as_ptr_range();
        if !input.is_empty() && !out.is_empty() && i.start < o.end && o.start < i.end {
            return Err(invalid(format!("{what}: the output buffer overlaps an input")));
        }
    }
    Ok(())
}

pub fn check_out(out_len: usize, needed: usize, what: &str) -> Result<()> {
    if out_len < needed {
        return Err(invalid(format!("{what}: output buffer has {out_len} bytes, {needed} needed")));
    }
    Ok(())
}

/// Encodes `block` into `out`: all shards back to back (data first, then parity). Returns the
/// bytes written.
pub fn encode_packed(block: &[u8], layout: Layout, out: &mut [u8]) -> Result<usize> {
    let grid = ShardGrid::packed(shard_len(block.len(), layout.data));
    let n = grid.len * layout.total();
    check_out(out.len(), n, "encodeBlock")?;
    check_disjoint(out, [block], "encodeBlock")?;
    encode_into(block, layout, &mut out[..n], grid)?;
    Ok(n)
}

/// Checks the shard list against the layout: right count, equal lengths, enough shards present.
/// Returns the shard length (`expected`, or the length of the present shards).
pub fn check_shards(shards: &[Option<&[u8]>], layout: Layout, expected: Option<usize>) -> Result<usize> {
    if shards.len() != layout.total() {
        return Err(invalid(format!(
            "expected {} shards for layout {}+{}, got {}",
            layout.total(),
            layout.data,
            layout.parity,
            shards.len()
        )));
    }
    let mut len = expected;
    let mut present = 0;
    for (i, shard) in shards.iter().enumerate() {
        if let Some(s) = shard {
            present += 1;
            match len {
                Some(l) if l != s.len() => {
                    return Err(invalid(format!("shard {i} has {} bytes, expected {l}", s.len())));
                }
                _ => len = Some(s.len()),
            }
        }
    }
    if present < layout.data {
        return Err(Error::new(
            Status::GenericFailure,
            format!("too few shards to decode: {present} present, {} needed", layout.data),
        ));
    }
    Ok(len.unwrap_or(0))
}

/// Runs `f` over all data shards of a checked shard list, restoring the missing ones first.
pub fn with_data_shards<R>(
    shards: &[Option<&[u8]>],
    layout: Layout,
    len: usize,
    f: impl FnOnce(&[&[u8]]) -> Result<R>,
) -> Result<R> {
    if shards[..layout.data].iter().all(Option::is_some) {
        let data: Vec<&[u8]> = shards[..layout.data].iter().map(|s| s.unwrap_or_default()).collect();
        return f(&data);
    }
    if len == 0 {
        return f(&vec![&[][..]; layout.data]);
    }
    let missing = shards[..layout.data].iter().filter(|s| s.is_none()).count();
    if small_decode::worth_it(layout, missing, len) {
        let restored = small_decode::restore(shards, layout, len)?;
        let mut data: Vec<&[u8]> = shards[..layout.data].iter().map(|s| s.unwrap_or_default()).collect();
        for (i, bytes) in &restored {
            data[*i] = bytes;
        }
        return f(&data);
    }
    DECODER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decoder = match slot.as_mut() {
            Some(d) => {
                d.reset(layout.data, layout.parity, len).map_err(rs_error)?;
                d
            }
            None => slot.insert(ReedSolomonDecoder::new(layout.data, layout.parity, len).map_err(rs_error)?),
        };
        for (i, shard) in shards.iter().enumerate() {
            match shard {
                Some(s) if i < layout.data => decoder.add_original_shard(i, s).map_err(rs_error)?,
                Some(s) => decoder.add_recovery_shard(i - layout.data, s).map_err(rs_error)?,
                None => {}
            }
        }
        let restored = decoder.decode().map_err(rs_error)?;
        let mut data = Vec::with_capacity(layout.data);
        for (i, shard) in shards[..layout.data].iter().enumerate() {
            let s = match shard {
                Some(s) => *s,
                None => restored
                    .restored_original(i)
                    .ok_or_else(|| Error::new(Status::GenericFailure, format!("shard {i} was not restored")))?,
            };
            data.push(s);
        }
        let r = f(&data);
        drop(restored);
        if len > CACHE_SHARD_LIMIT {
            *slot = None;
        }
        r
    })
}

/// Writes the block (`block_len` bytes) into `out` from a shard list with at least `data` shards.
pub fn decode(shards: &[Option<&[u8]>], layout: Layout, block_len: usize, out: &mut [u8]) -> Result<usize> {
    check_out(out.len(), block_len, "decodeBlock")?;
    check_disjoint(out, shards.iter().flatten().copied(), "decodeBlock")?;
    let len = check_shards(shards, layout, Some(shard_len(block_len, layout.data)))?;
    with_data_shards(shards, layout, len, |data| {
        let mut at = 0;
        for s in data {
            let take = s.len().min(block_len - at);
            out[at..at + take].copy_from_slice(&s[..take]);
            at += take;
        }
        Ok(block_len)
    })
}

/// The missing shards (data and parity) of a shard list, back to back in index order.
/// `grid` places them in the output (e.g. leaving room for a hash before each).
pub fn rebuild_missing(
    shards: &[Option<&[u8]>],
    layout: Layout,
    expected_len: Option<usize>,
    stride_extra: usize,
) -> Result<(Vec<u8>, Vec<usize>, usize)> {
    let len = check_shards(shards, layout, expected_len)?;
    let missing: Vec<usize> = (0..layout.total()).filter(|&i| shards[i].is_none()).collect();
    let grid = ShardGrid { len, stride: len + stride_extra, offset: stride_extra };
    let mut out = vec![0u8; missing.len() * grid.stride];
    if missing.is_empty() {
        return Ok((out, missing, len));
    }
    with_data_shards(shards, layout, len, |data| {
        let mut parity_missing = false;
        for (k, &i) in missing.iter().enumerate() {
            if i < layout.data {
                out[grid.range(k)].copy_from_slice(data[i]);
            } else {
                parity_missing = true;
            }
        }
        if parity_missing && len > 0 {
            with_encoder(layout, len, |encoder| {
                for s in data {
                    encoder.add_original_shard(s).map_err(rs_error)?;
                }
                let result = encoder.encode().map_err(rs_error)?;
                for (k, &i) in missing.iter().enumerate() {
                    if i >= layout.data {
                        let recovery = result
                            .recovery(i - layout.data)
                            .ok_or_else(|| Error::new(Status::GenericFailure, "parity shard not produced"))?;
                        out[grid.range(k)].copy_from_slice(recovery);
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok((out, missing, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes (an LCG): the same block in every run.
    fn bytes(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect()
    }

    fn encoded(block: &[u8], layout: Layout) -> Vec<Vec<u8>> {
        let len = shard_len(block.len(), layout.data);
        let mut out = vec![0u8; len * layout.total()];
        assert_eq!(encode_packed(block, layout, &mut out).expect("encode"), len * layout.total());
        if len == 0 {
            return vec![Vec::new(); layout.total()];
        }
        out.chunks_exact(len).map(<[u8]>::to_vec).collect()
    }

    /// The shard list with the shards of `missing` left out.
    fn without<'a>(shards: &'a [Vec<u8>], missing: &[usize]) -> Vec<Option<&'a [u8]>> {
        shards.iter().enumerate().map(|(i, s)| (!missing.contains(&i)).then_some(s.as_slice())).collect()
    }

    fn decoded(shards: &[Option<&[u8]>], layout: Layout, block_len: usize) -> Result<Vec<u8>> {
        let mut out = vec![0u8; block_len];
        decode(shards, layout, block_len, &mut out)?;
        Ok(out)
    }

    #[test]
    fn layouts_from_1_0_to_16_16() {
        assert!(Layout::new(1, 0).is_ok());
        assert!(Layout::new(16, 16).is_ok());
        for (d, p) in [(0, 0), (0, 2), (17, 0), (4, 17)] {
            assert!(Layout::new(d, p).is_err(), "{d}+{p}");
        }
        assert_eq!(Layout::new(5, 3).expect("layout").total(), 8);
    }

    #[test]
    fn shards_are_the_block_cut_in_data_pieces_rounded_up_to_even() {
        assert_eq!(shard_len(0, 4), 0);
        assert_eq!(shard_len(1, 4), 2);
        assert_eq!(shard_len(8, 4), 2);
        assert_eq!(shard_len(9, 4), 4);
        assert_eq!(shard_len(10, 1), 10);
        assert_eq!(shard_len(11, 1), 12);
        let layout = Layout::new(4, 2).expect("layout");
        let block = bytes(13, 1);
        let shards = encoded(&block, layout);
        assert_eq!(shards[0], block[0..4]);
        assert_eq!(shards[3], [block[12], 0, 0, 0]);
        assert_eq!(whole_data_shards(13, layout), 3);
        assert_eq!(whole_data_shards(16, layout), 4);
        assert_eq!(whole_data_shards(0, layout), 4);
        assert_eq!(whole_data_shards(1, layout), 0);
    }

    #[test]
    fn any_data_shards_give_the_block_back() {
        for (d, p) in [(1, 0), (1, 1), (2, 2), (3, 1), (4, 2), (5, 3)] {
            let layout = Layout::new(d, p).expect("layout");
            for n in [0, 1, 2, 7, 64, 1000] {
                let block = bytes(n, n as u32 + d);
                let shards = encoded(&block, layout);
                // Every set of up to `parity` missing shards, as pairs of indices (all of them for p <= 2).
                let total = layout.total();
                let mut patterns: Vec<Vec<usize>> = vec![vec![]];
                patterns.extend((0..total).map(|i| vec![i]));
                if p >= 2 {
                    patterns.extend((0..total).flat_map(|i| (i + 1..total).map(move |j| vec![i, j])));
                }
                if p >= 3 {
                    patterns.push((0..p as usize).collect());
                }
                for missing in patterns.iter().filter(|m| m.len() <= p as usize) {
                    let got = decoded(&without(&shards, missing), layout, n).expect("decode");
                    assert_eq!(got, block, "{d}+{p}, {n} bytes, missing {missing:?}");
                }
                let too_many: Vec<usize> = (0..=p as usize).collect();
                if n > 0 {
                    assert!(decoded(&without(&shards, &too_many), layout, n).is_err(), "{d}+{p}, {n} bytes");
                }
            }
        }
    }

    #[test]
    fn large_blocks_are_coded_segment_by_segment_exactly() {
        // Over two segments of 256 KiB per shard, with a short last one.
        let layout = Layout::new(2, 2).expect("layout");
        let block = bytes(2 * (SEGMENT * 2 + 1000), 7);
        let shards = encoded(&block, layout);
        assert_eq!(decoded(&without(&shards, &[0, 1]), layout, block.len()).expect("decode"), block);
        let (rebuilt, missing, len) = rebuild_missing(&without(&shards, &[1, 3]), layout, None, 0).expect("rebuild");
        assert_eq!((missing, len), (vec![1, 3], shards[0].len()));
        assert_eq!(rebuilt, [shards[1].clone(), shards[3].clone()].concat());
    }

    #[test]
    fn rebuilds_exactly_the_missing_shards_with_room_before_each() {
        let layout = Layout::new(4, 2).expect("layout");
        let block = bytes(999, 3);
        let shards = encoded(&block, layout);
        for missing in [vec![], vec![0], vec![5], vec![2, 4], vec![0, 3]] {
            let (out, got, len) = rebuild_missing(&without(&shards, &missing), layout, None, 3).expect("rebuild");
            assert_eq!(got, missing);
            assert_eq!(len, shards[0].len());
            let want: Vec<u8> = missing.iter().flat_map(|&i| [vec![0u8; 3], shards[i].clone()].concat()).collect();
            assert_eq!(out, want, "missing {missing:?}");
        }
        assert!(rebuild_missing(&without(&shards, &[0, 1, 2]), layout, None, 0).is_err());
    }

    #[test]
    fn zero_copy_encode_writes_the_padded_tail_and_the_parity() {
        let layout = Layout::new(4, 2).expect("layout");
        for n in [0, 1, 13, 16, 999] {
            let block = bytes(n, 5);
            let shards = encoded(&block, layout);
            let whole = whole_data_shards(n, layout);
            let mut out = vec![0xaau8; shards[0].len() * layout.total()];
            let written = encode_tail_and_parity(&block, layout, &mut out).expect("encode");
            assert_eq!(out[..written], shards[whole..].concat(), "{n} bytes");
            let mut short = vec![0u8; written.saturating_sub(1)];
            if written > 0 {
                assert!(encode_tail_and_parity(&block, layout, &mut short).is_err());
            }
        }
    }

    #[test]
    fn shard_lists_are_checked_before_decoding() {
        let layout = Layout::new(2, 1).expect("layout");
        let shards = encoded(&bytes(10, 9), layout);
        let list = without(&shards, &[]);
        assert_eq!(check_shards(&list, layout, None).expect("ok"), 6);
        assert!(check_shards(&list[..2], layout, None).is_err());
        assert!(check_shards(&list, layout, Some(4)).is_err());
        let uneven = [Some(&shards[0][..]), Some(&shards[1][..5]), None];
        assert!(check_shards(&uneven, layout, None).is_err());
        assert_eq!(check_shards(&[None, Some(&shards[1][..]), Some(&shards[2][..])], layout, None).expect("ok"), 6);
        assert!(check_shards(&[None, None, Some(&shards[2][..])], layout, None).is_err());
        let mut out = vec![0u8; 9];
        assert!(decode(&list, layout, 10, &mut out).is_err(), "output too short");
    }

    #[test]
    fn outputs_may_not_overlap_inputs() {
        let buf = vec![0u8; 10];
        assert!(check_disjoint(&buf[..5], [&buf[5..]], "t").is_ok());
        assert!(check_disjoint(&buf[..6], [&buf[5..]], "t").is_err());
        assert!(check_disjoint(&buf[4..], [&buf[..5]], "t").is_err());
        assert!(check_disjoint(&buf[..0], [&buf[..]], "t").is_ok());
        assert!(check_disjoint(&buf[..], [&buf[3..3]], "t").is_ok());
        assert!(check_out(5, 5, "t").is_ok());
        assert!(check_out(4, 5, "t").is_err());
    }
}
