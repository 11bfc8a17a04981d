//! Restoring the missing data shards of a small block with a cached decoding matrix.
//!
//! reed-solomon-simd's FFT decoder costs about 180 µs per call whatever the block size (it
//! evaluates an erasure polynomial over all of GF(2^16)), which dominates small blocks. The code is
//! linear over its field, so for a given layout and set of lost shards each missing data symbol is a
//! fixed combination of the `data` symbols at the same position in the shards used: we derive those
//! coefficients once (encoding unit vectors, then inverting a `data`×`data` matrix) and apply them
//! symbol by symbol. Worth it while `missing × data × symbols` stays small (see `worth_it`).
use std::cell::RefCell;
use std::collections::HashMap;

use napi::{Error, Result, Status};
use reed_solomon_simd::engine::tables::{get_exp_log, Exp, Log};
use reed_solomon_simd::ReedSolomonEncoder;

use crate::erasure::Layout;

/// Most symbol multiplications for which the matrix path beats the FFT decoder.
const MAX_WORK: usize = 64_000;
/// Decoding matrices kept per thread (each is at most 16×16 coefficients).
const MAX_CACHED: usize = 4096;

/// Coefficients of a layout's parity shards: `g[k][j]` for parity `k` and data shard `j`.
type Generator = Vec<Vec<u16>>;

thread_local! {
    static GENERATORS: RefCell<HashMap<(usize, usize), Generator>> = RefCell::new(HashMap::new());
    static MATRICES: RefCell<HashMap<(usize, usize, u32), Matrix>> = RefCell::new(HashMap::new());
}

/// For one loss pattern: which shards to read, and the log-coefficients of each missing data shard.
struct Matrix {
    used: Vec<usize>,
    /// `rows[k][a]`: log of the coefficient of shard `used[a]` in missing data shard `missing[k]`
    /// (`None` for a zero coefficient).
    rows: Vec<(usize, Vec<Option<u16>>)>,
}

/// Whether restoring `missing` shards of `len` bytes this way is cheaper than the FFT decoder.
pub fn worth_it(layout: Layout, missing: usize, len: usize) -> bool {
    missing * layout.data * (len / 2) <= MAX_WORK
}

struct Field {
    exp: &'static Exp,
    log: &'static Log,
}

impl Field {
    fn get() -> Field {
        let t = get_exp_log();
        Field { exp: &t.exp, log: &t.log }
    }
    fn one(&self) -> u16 {
        self.exp[0]
    }
    fn mul(&self, a: u16, b: u16) -> u16 {
        if a == 0 || b == 0 {
            return 0;
        }
        let s = u32::from(self.log[a as usize]) + u32::from(self.log[b as usize]);
        self.exp[(s % 65535) as usize]
    }
    fn inv(&self, a: u16) -> u16 {
        self.exp[((65535 - u32::from(self.log[a as usize])) % 65535) as usize]
    }
}

/// Symbol `s` of a shard: 64-byte chunks hold 32 low bytes then 32 high bytes; a shorter last
/// chunk of `r` bytes holds `r/2` low bytes then `r/2` high bytes (reed-solomon-simd's layout).
#[inline]
fn symbol_at(len: usize, s: usize) -> (usize, usize) {
    let (chunk, t) = (s / 32, s % 32);
    let whole = len / 64;
    if chunk < whole {
        (chunk * 64 + t, chunk * 64 + 32 + t)
    } else {
        let half = (len % 64) / 2;
        (whole * 64 + t, whole * 64 + half + t)
    }
}

fn rs_error(e: reed_solomon_simd::Error) -> Error {
    Error::new(Status::GenericFailure, format!("Reed-Solomon: {e}"))
}

/// The generator of a layout, found by encoding unit vectors.
#[allow(clippy::needless_range_loop)]
fn generator(layout: Layout, f: &Field) -> Result<Generator> {
    let mut g = vec![vec![0u16; layout.data]; layout.parity];
    let mut encoder = ReedSolomonEncoder::new(layout.data, layout.parity, 64).map_err(rs_error)?;
    let one = f.one();
    let zero = [0u8; 64];
    let mut unit = [0u8; 64];
    (unit[0], unit[32]) = (one as u8, (one >> 8) as u8);
    for j in 0..layout.data {
        for i in 0..layout.data {
            encoder.add_original_shard(if i == j { &unit[..] } else { &zero[..] }).map_err(rs_error)?;
        }
        let result = encoder.encode().map_err(rs_error)?;
        for (k, recovery) in result.recovery_iter().enumerate() {
            // parity = g * one = g
            g[k][j] = u16::from(recovery[0]) | (u16::from(recovery[32]) << 8);
        }
    }
    Ok(g)
}

/// Inverse of a square matrix over the field (Gauss-Jordan); `None` if singular.
#[allow(clippy::needless_range_loop)]
fn invert(mut a: Vec<Vec<u16>>, f: &Field) -> Option<Vec<Vec<u16>>> {
    let n = a.len();
    let mut inv: Vec<Vec<u16>> = (0..n).map(|i| (0..n).map(|j| if i == j { f.one() } else { 0 }).collect()).collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| a[r][col] != 0)?;
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p = f.inv(a[col][col]);
        for j in 0..n {
            a[col][j] = f.mul(a[col][j], p);
            inv[col][j] = f.mul(inv[col][j], p);
        }
        for r in 0..n {
            let factor = a[r][col];
            if r != col && factor != 0 {
                for j in 0..n {
                    a[r][j] ^= f.mul(factor, a[col][j]);
                    inv[r][j] ^= f.mul(factor, inv[col][j]);
                }
            }
        }
    }
    Some(inv)
}

fn build(layout: Layout, present: &[bool], f: &Field) -> Result<Matrix> {
    let g = GENERATORS.with(|c| -> Result<Generator> {
        let mut map = c.borrow_mut();
        if let Some(g) = map.get(&(layout.data, layout.parity)) {
            return Ok(g.clone());
        }
        let g = generator(layout, f)?;
        map.insert((layout.data, layout.parity), g.clone());
        Ok(g)
    })?;
    // Rows of the systematic generator for the first `data` shards present, data shards first.
    let used: Vec<usize> = (0..layout.total()).filter(|&i| present[i]).take(layout.data).collect();
    let rows: Vec<Vec<u16>> = used
        .iter()
        .map(|&i| {
            if i < layout.data {
                (0..layout.data).map(|j| if j == i { f.one() } else { 0 }).collect()
            } else {
                g[i - layout.data].clone()
            }
        })
        .collect();
    let inv =
        invert(rows, f).ok_or_else(|| Error::new(Status::GenericFailure, "Reed-Solomon: singular decoding matrix"))?;
    let log = |c: u16| if c == 0 { None } else { Some(f.log[c as usize]) };
    let rows =
        (0..layout.data).filter(|&m| !present[m]).map(|m| (m, inv[m].iter().map(|&c| log(c)).collect())).collect();
    Ok(Matrix { used, rows })
}

/// Restores the missing data shards (`len` bytes each) of a checked shard list: returns
/// `(index, bytes)` for each missing data shard, in index order.
pub fn restore(shards: &[Option<&[u8]>], layout: Layout, len: usize) -> Result<Vec<(usize, Vec<u8>)>> {
    let f = Field::get();
    let present: Vec<bool> = shards.iter().map(Option::is_some).collect();
    let mask = present.iter().enumerate().fold(0u32, |m, (i, &p)| if p { m | (1 << i) } else { m });
    let key = (layout.data, layout.parity, mask);
    MATRICES.with(|c| -> Result<Vec<(usize, Vec<u8>)>> {
        let mut map = c.borrow_mut();
        if !map.contains_key(&key) {
            if map.len() >= MAX_CACHED {
                map.clear();
            }
            map.insert(key, build(layout, &present, &f)?);
        }
        let matrix = &map[&key];
        let used: Vec<&[u8]> = matrix.used.iter().map(|&i| shards[i].unwrap_or_default()).collect();
        let mut restored = Vec::with_capacity(matrix.rows.len());
        for (m, coefficients) in &matrix.rows {
            let mut out = vec![0u8; len];
            for s in 0..len / 2 {
                let (lo, hi) = symbol_at(len, s);
                let mut acc = 0u16;
                for (shard, c) in used.iter().zip(coefficients) {
                    let y = u16::from(shard[lo]) | (u16::from(shard[hi]) << 8);
                    if let (Some(c), true) = (c, y != 0) {
                        let l = u32::from(f.log[y as usize]) + u32::from(*c);
                        acc ^= f.exp[(l % 65535) as usize];
                    }
                }
                (out[lo], out[hi]) = (acc as u8, (acc >> 8) as u8);
            }
            restored.push((*m, out));
        }
        Ok(restored)
    })
}
