//! HighwayHash-64/-128/-256 with a caller-given 32-byte key, byte-identical to
//! github.com/minio/highwayhash: the key is read as four little-endian u64 words, and the digest
//! is written as little-endian u64 words (64-bit: 8 bytes, as `binary.LittleEndian.PutUint64`).
use highway::{HighwayHash, HighwayHasher as Hh, Key};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::shared::{invalid, Claim, Shared};

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

/// HighwayHash of `data` with `key` (32 bytes); `bits` is 64, 128 or 256. Sync form.
#[napi]
pub fn highway_hash<'env>(env: &'env Env, data: &[u8], key: &[u8], bits: u32) -> Result<BufferSlice<'env>> {
    let (key, bits) = (key_of(key)?, check_bits(bits)?);
    let mut h = Hh::new(key);
    h.append(data);
    // A small digest is cheaper to hand over as a V8-owned copy than as an external buffer.
    BufferSlice::copy_from(env, finish(h, bits))
}

/// Off-thread one-shot HighwayHash.
pub struct HighwayHashTask {
    data: Buffer,
    key: Key,
    bits: u32,
}

#[napi]
impl Task for HighwayHashTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> Result<Vec<u8>> {
        let mut h = Hh::new(self.key);
        h.append(&self.data);
        Ok(finish(h, self.bits))
    }

    fn resolve(&mut self, _env: Env, output: Vec<u8>) -> Result<Buffer> {
        Ok(output.into())
    }
}

/// HighwayHash of `data`, computed on the libuv thread pool.
#[napi]
pub fn highway_hash_async(data: Buffer, key: &[u8], bits: u32) -> Result<AsyncTask<HighwayHashTask>> {
    Ok(AsyncTask::new(HighwayHashTask { data, key: key_of(key)?, bits: check_bits(bits)? }))
}

/// Off-thread `HighwayHasher.update`.
pub struct HighwayUpdateTask {
    claim: Claim<Hh>,
    data: Buffer,
}

#[napi]
impl Task for HighwayUpdateTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let data = &self.data;
        self.claim.with(|h| h.append(data));
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Streaming HighwayHash: `update` in order, `digest` at any point (it does not end the stream).
#[napi]
pub struct HighwayHasher {
    shared: Shared<Hh>,
    key: Key,
    bits: u32,
}

#[napi]
impl HighwayHasher {
    /// `key`: 32 bytes; `bits`: 64, 128 or 256.
    #[napi(constructor)]
    pub fn new(key: &[u8], bits: u32) -> Result<Self> {
        let key = key_of(key)?;
        Ok(HighwayHasher { shared: Shared::new(Hh::new(key)), key, bits: check_bits(bits)? })
    }

    /// Digest size in bits.
    #[napi(getter)]
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Adds `data` (sync, for small chunks).
    #[napi]
    pub fn update(&self, data: &[u8]) -> Result<()> {
        self.shared.claim("HighwayHasher")?.with(|h| h.append(data));
        Ok(())
    }

    /// Adds `data` on the libuv thread pool; await it before the next call on this hasher.
    #[napi]
    pub fn update_async(&self, data: Buffer) -> Result<AsyncTask<HighwayUpdateTask>> {
        let claim = self.shared.claim("HighwayHasher")?;
        Ok(AsyncTask::new(HighwayUpdateTask { claim, data }))
    }

    /// Digest of everything added so far.
    #[napi]
    pub fn digest(&self) -> Result<Buffer> {
        let bits = self.bits;
        Ok(self.shared.claim("HighwayHasher")?.with(|h| finish(h.clone(), bits)).into())
    }

    /// Starts over with the same key.
    #[napi]
    pub fn reset(&self) -> Result<()> {
        let key = self.key;
        self.shared.claim("HighwayHasher")?.with(|h| *h = Hh::new(key));
        Ok(())
    }
}
