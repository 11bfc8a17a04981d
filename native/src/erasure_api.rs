//! The napi face of the erasure coder (erasure.rs): sync forms over `&[u8]`, async forms as
//! `AsyncTask`s holding the caller's Buffers, outputs written into caller-provided buffers.
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::erasure::{decode, encode_packed, encode_tail_and_parity, rebuild_missing, shard_len, Layout};

/// Borrowed views of a shard list held as Buffers.
pub fn as_slices(shards: &[Option<Buffer>]) -> Vec<Option<&[u8]>> {
    shards.iter().map(|s| s.as_deref()).collect()
}

/// Shard length for a block of `blockLength` bytes cut in `data` shards (0 for an empty block).
#[napi]
pub fn shard_size(block_length: u32, data: u32) -> Result<u32> {
    let layout = Layout::new(data, 0)?;
    Ok(shard_len(block_length as usize, layout.data) as u32)
}

/// Writes all `data + parity` shards of `block` back to back into `out` (`shardSize` bytes each,
/// data first). Returns the bytes written. Sync form.
#[napi]
pub fn encode_block(block: &[u8], data: u32, parity: u32, mut out: BufferSlice) -> Result<u32> {
    Ok(encode_packed(block, Layout::new(data, parity)?, &mut out)? as u32)
}

/// Off-thread `encodeBlock`.
pub struct EncodeTask {
    block: Buffer,
    layout: Layout,
    out: Buffer,
}

#[napi]
impl Task for EncodeTask {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<u32> {
        Ok(encode_packed(&self.block, self.layout, &mut self.out)? as u32)
    }

    fn resolve(&mut self, _env: Env, output: u32) -> Result<u32> {
        Ok(output)
    }
}

/// `encodeBlock` on the libuv thread pool (`out` must not be touched until it resolves).
#[napi]
pub fn encode_block_async(block: Buffer, data: u32, parity: u32, out: Buffer) -> Result<AsyncTask<EncodeTask>> {
    Ok(AsyncTask::new(EncodeTask { block, layout: Layout::new(data, parity)?, out }))
}

/// The zero-copy encode: the data shards that lie whole inside `block` are not copied; `out`
/// receives the other data shards (zero-padded), then the parity shards, `shardSize` bytes each.
/// Returns the bytes written. Sync form.
#[napi]
pub fn encode_shards(block: &[u8], data: u32, parity: u32, mut out: BufferSlice) -> Result<u32> {
    Ok(encode_tail_and_parity(block, Layout::new(data, parity)?, &mut out)? as u32)
}

/// Off-thread `encodeShards`.
pub struct EncodeShardsTask {
    block: Buffer,
    layout: Layout,
    out: Buffer,
}

#[napi]
impl Task for EncodeShardsTask {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<u32> {
        Ok(encode_tail_and_parity(&self.block, self.layout, &mut self.out)? as u32)
    }

    fn resolve(&mut self, _env: Env, output: u32) -> Result<u32> {
        Ok(output)
    }
}

/// `encodeShards` on the libuv thread pool (`block` and `out` must not change until it resolves).
#[napi]
pub fn encode_shards_async(block: Buffer, data: u32, parity: u32, out: Buffer) -> Result<AsyncTask<EncodeShardsTask>> {
    Ok(AsyncTask::new(EncodeShardsTask { block, layout: Layout::new(data, parity)?, out }))
}

/// Writes the block of `blockLength` bytes into `out` from its shards (`null` for missing ones;
/// at least `data` present). Returns the bytes written. Sync form.
#[napi]
pub fn decode_block(
    shards: Vec<Option<&[u8]>>,
    data: u32,
    parity: u32,
    block_length: u32,
    mut out: BufferSlice,
) -> Result<u32> {
    Ok(decode(&shards, Layout::new(data, parity)?, block_length as usize, &mut out)? as u32)
}

/// Off-thread `decodeBlock`.
pub struct DecodeTask {
    shards: Vec<Option<Buffer>>,
    layout: Layout,
    block_len: usize,
    out: Buffer,
}

#[napi]
impl Task for DecodeTask {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<u32> {
        Ok(decode(&as_slices(&self.shards), self.layout, self.block_len, &mut self.out)? as u32)
    }

    fn resolve(&mut self, _env: Env, output: u32) -> Result<u32> {
        Ok(output)
    }
}

/// `decodeBlock` on the libuv thread pool (`out` must not be touched until it resolves).
#[napi]
pub fn decode_block_async(
    shards: Vec<Option<Buffer>>,
    data: u32,
    parity: u32,
    block_length: u32,
    out: Buffer,
) -> Result<AsyncTask<DecodeTask>> {
    let layout = Layout::new(data, parity)?;
    Ok(AsyncTask::new(DecodeTask { shards, layout, block_len: block_length as usize, out }))
}

/// The missing shards (`null` entries, data or parity) rebuilt from the present ones, back to
/// back in index order. Sync form.
#[napi]
pub fn reconstruct_shards(shards: Vec<Option<&[u8]>>, data: u32, parity: u32) -> Result<Buffer> {
    Ok(rebuild_missing(&shards, Layout::new(data, parity)?, None, 0)?.0.into())
}

/// Off-thread `reconstructShards`.
pub struct ReconstructTask {
    shards: Vec<Option<Buffer>>,
    layout: Layout,
}

#[napi]
impl Task for ReconstructTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> Result<Vec<u8>> {
        Ok(rebuild_missing(&as_slices(&self.shards), self.layout, None, 0)?.0)
    }

    fn resolve(&mut self, _env: Env, output: Vec<u8>) -> Result<Buffer> {
        Ok(output.into())
    }
}

/// `reconstructShards` on the libuv thread pool.
#[napi]
pub fn reconstruct_shards_async(
    shards: Vec<Option<Buffer>>,
    data: u32,
    parity: u32,
) -> Result<AsyncTask<ReconstructTask>> {
    Ok(AsyncTask::new(ReconstructTask { shards, layout: Layout::new(data, parity)? }))
}
