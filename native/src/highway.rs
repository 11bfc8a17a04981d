//! HighwayHash-64/-128/-256 with a caller-given 32-byte key, byte-identical to
//! github.com/minio/highwayhash: the key is read as four little-endian u64 words, and the digest
//! is written as little-endian u64 words (64-bit: 8 bytes, as `binary.LittleEndian.PutUint64`).
use highway::{HighwayHash, HighwayHasher as Hh, Key};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::checksum::digest_copy;
use crate::shared::invalid;

/// Length of a HighwayHash key and of a HighwayHash-256 digest.
pub const HH_LEN: usize = 32;

/// The key of `bytes` (exactly 32 bytes).
pub fn key_of(bytes: &[u8]) -> Result<Key> {
    if bytes.len() != HH_LEN {
        return Err(invalid(format!("HighwayHash key must be 32 bytes, got {}", bytes.len())));
    }
    let mut words = [0u64; 4];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *w = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
    }
    Ok(Key(words))
}

fn check_bits(bits: u32) -> Result<u32> {
    match bits {
        64 | 128 | 256 => Ok(bits),
        _ => Err(invalid(format!("HighwayHash size must be 64, 128 or 256 bits, got {bits}"))),
    }
}

fn le_words(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Digest of the hasher's input so far, `bits` wide.
fn finish(hasher: Hh, bits: u32) -> Vec<u8> {
    match bits {
        64 => le_words(&[hasher.finalize64()]),
        128 => le_words(&hasher.finalize128()),
        _ => le_words(&hasher.finalize256()),
    }
}

/// HighwayHash-256 of `data` into `out` (32 bytes); used per shard by the fused passes.
pub fn hash256_into(key: Key, data: &[u8], out: &mut [u8]) {
    let mut h = Hh::new(key);
    h.append(data);
    write_hash(h, out);
}

/// The HighwayHash-256 of a hasher's input into `out` (32 bytes, as minio/highwayhash's `Sum`).
pub fn write_hash(hasher: Hh, out: &mut [u8]) {
    for (dst, w) in out.chunks_exact_mut(8).zip(hasher.finalize256()) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
}

sync_and_async! {
    /// HighwayHash of `data` with `key` (32 bytes); `bits` is 64, 128 or 256.
    fn highway_hash / highway_hash_async via HighwayHashTask (data: &[u8] | Buffer, key: &[u8], bits: u32)
        -> Vec<u8> as Buffer, sync as BufferSlice<'env> = digest_copy
    {
        let key: Key = key_of(key)?;
        let bits: u32 = check_bits(bits)?;
        run {
            let mut h = Hh::new(key);
            h.append(data);
            finish(h, bits)
        }
    }
}
