//! MD5 of several uploads at once ("multi-buffer" MD5, as github.com/minio/md5-simd does). One MD5 stream
//! is a chain of 64 dependent steps per 64-byte block, so a core hashes ~0.65 GB/s of one upload whatever
//! its width; eight uploads' blocks hashed in the eight 32-bit lanes of AVX2 registers advance together for
//! about the cost of one (each step's latency is a few cycles more than the scalar step's). The server
//! gathers the blocks of the uploads in progress into one call (native/src-ts/md5.ts).
//!
//! The states live in JS Buffers (`STATE_BYTES`, see md5.rs) so that one call can update any set of
//! uploads; each update takes its input as pieces (socket reads), read in place. A lane whose input ends
//! before the others drops out. Two or three live lanes run as interleaved scalar streams instead
//! (`md5::compress_n`: the AVX2 kernel costs the same at two lanes as at eight, while two scalar chains side
//! by side cost little more than one): md5Update of 16 MiB, CPU-s/GiB at load 17 on this EPYC (Zen 3),
//! 1 lane 1.68, 2 lanes 0.99 (AVX2: 1.35), 3 lanes 0.92 (AVX2: 0.96), 4 lanes 0.71 (AVX2; scalar 0.85-1.1,
//! its sixteen state words spill), 8 lanes 0.41. One lane and CPUs without AVX2 run the scalar code.
//! Whole-block runs read in place (`hash_group`), the same 16 MiB as one piece or as 64 KiB pieces, at load
//! 24: 1 lane 1.65 -> 1.53-1.55, 2 lanes 0.94 -> 0.90, 3 lanes 0.80-0.82 -> 0.79-0.81, 4 lanes 0.68 -> 0.61,
//! 8 lanes 0.36 -> 0.31.
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::md5::{compress, compress_n, Md5, STATE_BYTES};
use crate::pieces::Pieces;
use crate::shared::invalid;

/// Lanes of the AVX2 kernel.
pub const LANES: usize = 8;

/// Adds input `i` (its pieces) to state `i`, for every `i`; the states hashed in lanes where possible.
pub fn update_lanes(states: &mut [Md5], inputs: &[Vec<&[u8]>]) {
    // Each lane's stream: the bytes its state had buffered, then its pieces.
    let prefixes: Vec<[u8; 64]> = states.iter().map(|s| s.buffer).collect();
    let streams: Vec<Vec<&[u8]>> = states
        .iter()
        .zip(&prefixes)
        .zip(inputs)
        .map(|((s, prefix), input)| {
            let mut v: Vec<&[u8]> = Vec::with_capacity(input.len() + 1);
            v.push(&prefix[..s.buffered]);
            v.extend_from_slice(input);
            v
        })
        .collect();
    for (s, input) in states.iter_mut().zip(inputs) {
        s.length = s.length.wrapping_add(input.iter().map(|p| p.len() as u64).sum());
    }
    let mut cursors: Vec<Pieces> = streams.iter().map(|v| Pieces::new(v)).collect();
    for group in (0..states.len()).collect::<Vec<_>>().chunks(LANES) {
        hash_group(states, &mut cursors, group);
    }
    for (s, c) in states.iter_mut().zip(&mut cursors) {
        s.buffered = c.read_into(&mut s.buffer);
    }
}

/// Hashes every whole block of the lanes in `group` (at most LANES), leaving the last partial block unread.
/// Each round takes the next block of every lane (in place or gathered across pieces), then the run of whole
/// blocks that all the live lanes' current pieces still hold, read in place with the states kept in
/// registers: the per-block bookkeeping (which lanes live, where their next block is) is paid once a run.
fn hash_group(states: &mut [Md5], cursors: &mut [Pieces], group: &[usize]) {
    let mut gathers = [[0u8; 64]; LANES];
    let mut words = [[0u32; 4]; LANES];
    for (k, &i) in group.iter().enumerate() {
        words[k] = states[i].state;
    }
    let mut live: Vec<usize> = (0..group.len()).collect();
    let mut blocks = [core::ptr::null::<u8>(); LANES];
    loop {
        live.retain(|&k| match cursors[group[k]].next_block(&mut gathers[k]) {
            Some(b) => {
                blocks[k] = b;
                true
            }
            None => false,
        });
        if live.is_empty() {
            break;
        }
        let run = live.iter().map(|&k| cursors[group[k]].blocks_in_place()).min().unwrap_or(0);
        let mut runs: [&[u8]; LANES] = [&[]; LANES];
        for &k in &live {
            runs[k] = cursors[group[k]].take_blocks(run);
        }
        match live.len() {
            1 => compress_scalar::<1>(&mut words, &blocks, &runs, run, &live),
            2 => compress_scalar::<2>(&mut words, &blocks, &runs, run, &live),
            3 => compress_scalar::<3>(&mut words, &blocks, &runs, run, &live),
            _ => compress_lanes(&mut words, &blocks, &runs, run, &live),
        }
    }
    for (k, &i) in group.iter().enumerate() {
        states[i].state = words[k];
    }
}

/// For each of the N lanes in `live`: one block (a pointer to 64 readable bytes), then the `run` blocks of
/// its `runs` slice; as N interleaved scalar streams.
#[inline(always)]
fn compress_scalar<const N: usize>(
    words: &mut [[u32; 4]; LANES],
    blocks: &[*const u8; LANES],
    runs: &[&[u8]; LANES],
    run: usize,
    live: &[usize],
) {
    let mut mine: [[u32; 4]; N] = core::array::from_fn(|j| words[live[j]]);
    // SAFETY: the pointer is to 64 bytes of a piece or of this lane's gather buffer, both alive.
    let inputs: [&[u8; 64]; N] = core::array::from_fn(|j| unsafe { &*(blocks[live[j]] as *const [u8; 64]) });
    compress_n::<N>(mine.each_mut(), inputs);
    let chunks: [&[[u8; 64]]; N] = core::array::from_fn(|j| runs[live[j]].as_chunks::<64>().0);
    #[allow(clippy::needless_range_loop)] // block r of every lane at once
    for r in 0..run {
        compress_n::<N>(mine.each_mut(), core::array::from_fn(|j| &chunks[j][r]));
    }
    for (j, &k) in live.iter().enumerate() {
        words[k] = mine[j];
    }
}

/// For each lane in `live`: one block (a pointer to 64 readable bytes), then the `run` blocks of its `runs`
/// slice.
fn compress_lanes(
    words: &mut [[u32; 4]; LANES],
    blocks: &[*const u8; LANES],
    runs: &[&[u8]; LANES],
    run: usize,
    live: &[usize],
) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // Lanes not in `live` hash a block of zeros into a copy nobody keeps.
        static ZEROS: [u8; 64] = [0; 64];
        let mut inputs = [ZEROS.as_ptr(); LANES];
        for &k in live {
            inputs[k] = blocks[k];
        }
        let mut out = *words;
        for r in 0..=run {
            if r > 0 {
                for &k in live {
                    inputs[k] = runs[k][64 * (r - 1)..].as_ptr();
                }
            }
            // SAFETY: AVX2 is present; every pointer is to 64 readable bytes (`runs[k]` holds `run` blocks).
            unsafe { avx2::compress8(&mut out, &inputs) };
        }
        for &k in live {
            words[k] = out[k];
        }
        return;
    }
    for &k in live {
        // SAFETY: as in hash_group.
        compress(&mut words[k], unsafe { core::slice::from_raw_parts(blocks[k], 64) });
        for block in runs[k].chunks_exact(64) {
            compress(&mut words[k], block);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::LANES;
    use core::arch::x86_64::*;

    use crate::md5::K; // RFC 1321's table, shared with the one-stream MD5

    /// The 16 message words of the eight lanes' blocks, word `w` of lane `j` in lane `j` of `m[w]`.
    #[inline(always)]
    unsafe fn transpose(blocks: &[*const u8; LANES]) -> [__m256i; 16] {
        let mut m = [_mm256_setzero_si256(); 16];
        for half in 0..2 {
            let r: [__m256i; 8] =
                core::array::from_fn(|j| _mm256_loadu_si256(blocks[j].add(32 * half) as *const __m256i));
            let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
            let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
            let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
            let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
            let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
            let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
            let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
            let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
            let u0 = _mm256_unpacklo_epi64(t0, t2);
            let u1 = _mm256_unpackhi_epi64(t0, t2);
            let u2 = _mm256_unpacklo_epi64(t1, t3);
            let u3 = _mm256_unpackhi_epi64(t1, t3);
            let u4 = _mm256_unpacklo_epi64(t4, t6);
            let u5 = _mm256_unpackhi_epi64(t4, t6);
            let u6 = _mm256_unpacklo_epi64(t5, t7);
            let u7 = _mm256_unpackhi_epi64(t5, t7);
            let w = 8 * half;
            m[w] = _mm256_permute2x128_si256(u0, u4, 0x20);
            m[w + 1] = _mm256_permute2x128_si256(u1, u5, 0x20);
            m[w + 2] = _mm256_permute2x128_si256(u2, u6, 0x20);
            m[w + 3] = _mm256_permute2x128_si256(u3, u7, 0x20);
            m[w + 4] = _mm256_permute2x128_si256(u0, u4, 0x31);
            m[w + 5] = _mm256_permute2x128_si256(u1, u5, 0x31);
            m[w + 6] = _mm256_permute2x128_si256(u2, u6, 0x31);
            m[w + 7] = _mm256_permute2x128_si256(u3, u7, 0x31);
        }
        m
    }

    /// One block for each of the eight lanes (`words[j]` the state of lane `j`).
    #[target_feature(enable = "avx2")]
    #[rustfmt::skip] // four steps a line, as in RFC 1321
    pub unsafe fn compress8(words: &mut [[u32; 4]; LANES], blocks: &[*const u8; LANES]) {
        let m = transpose(blocks);
        let lane = |w: usize| _mm256_setr_epi32(
            words[0][w] as i32, words[1][w] as i32, words[2][w] as i32, words[3][w] as i32,
            words[4][w] as i32, words[5][w] as i32, words[6][w] as i32, words[7][w] as i32,
        );
        let (a0, b0, c0, d0) = (lane(0), lane(1), lane(2), lane(3));
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        let ones = _mm256_set1_epi32(-1);
        // a = b + rotl(a + f(b, c, d) + m[g] + K[i], s), the message word and constant added off the chain.
        macro_rules! step {
            ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $g:literal, $i:literal, $s:literal) => {
                let mk = _mm256_add_epi32(m[$g], _mm256_set1_epi32(K[$i] as i32));
                let x = _mm256_add_epi32(_mm256_add_epi32($a, mk), $f!($b, $c, $d));
                let r = _mm256_or_si256(_mm256_slli_epi32::<$s>(x), _mm256_srli_epi32::<{ 32 - $s }>(x));
                $a = _mm256_add_epi32($b, r);
            };
        }
        macro_rules! f { ($b:ident, $c:ident, $d:ident) => {
            _mm256_xor_si256($d, _mm256_and_si256($b, _mm256_xor_si256($c, $d)))
        }; }
        macro_rules! g { ($b:ident, $c:ident, $d:ident) => {
            _mm256_xor_si256($c, _mm256_and_si256($d, _mm256_xor_si256($b, $c)))
        }; }
        macro_rules! h { ($b:ident, $c:ident, $d:ident) => {
            _mm256_xor_si256($b, _mm256_xor_si256($c, $d))
        }; }
        macro_rules! i { ($b:ident, $c:ident, $d:ident) => {
            _mm256_xor_si256($c, _mm256_or_si256($b, _mm256_xor_si256($d, ones)))
        }; }
        step!(f, a, b, c, d, 0, 0, 7); step!(f, d, a, b, c, 1, 1, 12); step!(f, c, d, a, b, 2, 2, 17); step!(f, b, c, d, a, 3, 3, 22);
        step!(f, a, b, c, d, 4, 4, 7); step!(f, d, a, b, c, 5, 5, 12); step!(f, c, d, a, b, 6, 6, 17); step!(f, b, c, d, a, 7, 7, 22);
        step!(f, a, b, c, d, 8, 8, 7); step!(f, d, a, b, c, 9, 9, 12); step!(f, c, d, a, b, 10, 10, 17); step!(f, b, c, d, a, 11, 11, 22);
        step!(f, a, b, c, d, 12, 12, 7); step!(f, d, a, b, c, 13, 13, 12); step!(f, c, d, a, b, 14, 14, 17); step!(f, b, c, d, a, 15, 15, 22);

        step!(g, a, b, c, d, 1, 16, 5); step!(g, d, a, b, c, 6, 17, 9); step!(g, c, d, a, b, 11, 18, 14); step!(g, b, c, d, a, 0, 19, 20);
        step!(g, a, b, c, d, 5, 20, 5); step!(g, d, a, b, c, 10, 21, 9); step!(g, c, d, a, b, 15, 22, 14); step!(g, b, c, d, a, 4, 23, 20);
        step!(g, a, b, c, d, 9, 24, 5); step!(g, d, a, b, c, 14, 25, 9); step!(g, c, d, a, b, 3, 26, 14); step!(g, b, c, d, a, 8, 27, 20);
        step!(g, a, b, c, d, 13, 28, 5); step!(g, d, a, b, c, 2, 29, 9); step!(g, c, d, a, b, 7, 30, 14); step!(g, b, c, d, a, 12, 31, 20);

        step!(h, a, b, c, d, 5, 32, 4); step!(h, d, a, b, c, 8, 33, 11); step!(h, c, d, a, b, 11, 34, 16); step!(h, b, c, d, a, 14, 35, 23);
        step!(h, a, b, c, d, 1, 36, 4); step!(h, d, a, b, c, 4, 37, 11); step!(h, c, d, a, b, 7, 38, 16); step!(h, b, c, d, a, 10, 39, 23);
        step!(h, a, b, c, d, 13, 40, 4); step!(h, d, a, b, c, 0, 41, 11); step!(h, c, d, a, b, 3, 42, 16); step!(h, b, c, d, a, 6, 43, 23);
        step!(h, a, b, c, d, 9, 44, 4); step!(h, d, a, b, c, 12, 45, 11); step!(h, c, d, a, b, 15, 46, 16); step!(h, b, c, d, a, 2, 47, 23);

        step!(i, a, b, c, d, 0, 48, 6); step!(i, d, a, b, c, 7, 49, 10); step!(i, c, d, a, b, 14, 50, 15); step!(i, b, c, d, a, 5, 51, 21);
        step!(i, a, b, c, d, 12, 52, 6); step!(i, d, a, b, c, 3, 53, 10); step!(i, c, d, a, b, 10, 54, 15); step!(i, b, c, d, a, 1, 55, 21);
        step!(i, a, b, c, d, 8, 56, 6); step!(i, d, a, b, c, 15, 57, 10); step!(i, c, d, a, b, 6, 58, 15); step!(i, b, c, d, a, 13, 59, 21);
        step!(i, a, b, c, d, 4, 60, 6); step!(i, d, a, b, c, 11, 61, 10); step!(i, c, d, a, b, 2, 62, 15); step!(i, b, c, d, a, 9, 63, 21);

        let out = [_mm256_add_epi32(a, a0), _mm256_add_epi32(b, b0), _mm256_add_epi32(c, c0), _mm256_add_epi32(d, d0)];
        let mut lanes = [[0u32; LANES]; 4];
        for (w, v) in out.iter().enumerate() {
            _mm256_storeu_si256(lanes[w].as_mut_ptr() as *mut __m256i, *v);
        }
        for (j, state) in words.iter_mut().enumerate() {
            *state = [lanes[0][j], lanes[1][j], lanes[2][j], lanes[3][j]];
        }
    }
}

/// A fresh MD5 state, as a Buffer of STATE_BYTES (the state an upload's ETag digest starts from).
#[napi]
pub fn md5_state() -> Buffer {
    let mut out = vec![0u8; STATE_BYTES];
    Md5::new().store(&mut out);
    out.into()
}

/// The MD5 digest of what the state has seen (the state is not changed).
#[napi]
pub fn md5_state_digest(state: &[u8]) -> Result<Buffer> {
    let md5 = Md5::load(state).ok_or_else(|| invalid("md5StateDigest: not an MD5 state"))?;
    Ok(md5.digest().to_vec().into())
}

fn update_states<S: std::ops::DerefMut<Target = [u8]>>(
    states: &mut [S],
    pieces: &[&[u8]],
    counts: &[u32],
) -> Result<()> {
    if counts.len() != states.len() || counts.iter().map(|&c| c as usize).sum::<usize>() != pieces.len() {
        return Err(invalid("md5Update: one piece count per state, adding up to the pieces given"));
    }
    let mut md5s = Vec::with_capacity(states.len());
    for s in states.iter() {
        md5s.push(Md5::load(s).ok_or_else(|| invalid("md5Update: not an MD5 state"))?);
    }
    let mut inputs = Vec::with_capacity(counts.len());
    let mut at = 0;
    for &c in counts {
        inputs.push(pieces[at..at + c as usize].to_vec());
        at += c as usize;
    }
    update_lanes(&mut md5s, &inputs);
    for (s, md5) in states.iter_mut().zip(&md5s) {
        md5.store(s);
    }
    Ok(())
}

sync_and_async! {
    /// Adds to each MD5 state (a Buffer from `md5State`) its input: state `i` gets the next `counts[i]` of
    /// `pieces`. The states are hashed together in SIMD lanes where the CPU has them. The same state must
    /// not appear twice.
    fn md5_update / md5_update_async via Md5UpdateTask (
        states: Vec<BufferSlice> | Vec<Buffer>,
        pieces: Vec<&[u8]> | Vec<Buffer>,
        counts: Vec<u32> | Vec<u32>,
    ) -> () {
        run {
            let views: Vec<&[u8]> = pieces.iter().map(|p| p.as_ref()).collect();
            update_states(states, &views, counts)?
        }
    }
}
