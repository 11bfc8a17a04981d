//! The napi face of the erasure coder (erasure.rs): each kernel in a sync form over `&[u8]` and an
//! async form holding the caller's Buffers (see pairs.rs); outputs go into caller-provided buffers.
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::erasure::{decode, encode_packed, encode_tail_and_parity, rebuild_missing, shard_len, Layout};
use crate::shared::slices;

/// Shard length for a block of `blockLength` bytes cut in `data` shards (0 for an empty block).
#[napi]
pub fn shard_size(block_length: u32, data: u32) -> Result<u32> {
    let layout = Layout::new(data, 0)?;
    Ok(shard_len(block_length as usize, layout.data) as u32)
}

sync_and_async! {
    /// Writes all `data + parity` shards of `block` back to back into `out` (`shardSize` bytes each,
    /// data first). Returns the bytes written.
    fn encode_block / encode_block_async via EncodeTask (
        block: &[u8] | Buffer, data: u32, parity: u32, out: BufferSlice | Buffer,
    ) -> u32 {
        let layout: Layout = Layout::new(data, parity)?;
        run encode_packed(block, layout, out)? as u32
    }
}

sync_and_async! {
    /// The zero-copy encode: the data shards that lie whole inside `block` are not copied; `out`
    /// receives the other data shards (zero-padded), then the parity shards, `shardSize` bytes each.
    /// Returns the bytes written.
    fn encode_shards / encode_shards_async via EncodeShardsTask (
        block: &[u8] | Buffer, data: u32, parity: u32, out: BufferSlice | Buffer,
    ) -> u32 {
        let layout: Layout = Layout::new(data, parity)?;
        run encode_tail_and_parity(block, layout, out)? as u32
    }
}

sync_and_async! {
    /// Writes the block of `blockLength` bytes into `out` from its shards (`null` for missing ones;
    /// at least `data` present). Returns the bytes written.
    fn decode_block / decode_block_async via DecodeTask (
        shards: Vec<Option<&[u8]>> | Vec<Option<Buffer>>, data: u32, parity: u32, block_length: u32,
        out: BufferSlice | Buffer,
    ) -> u32 {
        let layout: Layout = Layout::new(data, parity)?;
        let block_len: usize = block_length as usize;
        run decode(&slices(shards), layout, block_len, out)? as u32
    }
}

sync_and_async! {
    /// The missing shards (`null` entries, data or parity) rebuilt from the present ones, back to
    /// back in index order.
    fn reconstruct_shards / reconstruct_shards_async via ReconstructTask (
        shards: Vec<Option<&[u8]>> | Vec<Option<Buffer>>, data: u32, parity: u32,
    ) -> Vec<u8> as Buffer {
        let layout: Layout = Layout::new(data, parity)?;
        run rebuild_missing(&slices(shards), layout, None, 0)?.0
    }
}
