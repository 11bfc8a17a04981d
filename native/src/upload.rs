//! The fused upload pass: one call per object block updates the requested S3 checksum, erasure-codes the
//! block and hashes every shard into frames (frames.rs). The block arrives as pieces (the socket reads of the
//! request body): they are copied once, straight into the data shards of the frames. The ETag's MD5 is not
//! computed here but in md5x.rs, where the blocks of several uploads are hashed together.
use highway::Key;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::checksum::{ChecksumAlgorithm, HashState};
use crate::erasure::{check_disjoint, check_out, parity_in_place, shard_len, Layout, ShardGrid};
use crate::frames::hash_frames;
use crate::highway::{key_of, HH_LEN};
use crate::pieces::Pieces;
use crate::shared::{Claim, Shared};

/// Running state of one upload (an object or a part).
pub struct UploadState {
    checksum: Option<HashState>,
    size: u64,
}

impl UploadState {
    fn encode(&mut self, pieces: &[&[u8]], layout: Layout, key: Key, out: &mut [u8]) -> Result<usize> {
        let block_len: usize = pieces.iter().map(|p| p.len()).sum();
        let len = shard_len(block_len, layout.data);
        check_out(out.len(), layout.total() * (HH_LEN + len), "encodeBlock")?;
        check_disjoint(out, pieces.iter().copied(), "encodeBlock")?;
        if let Some(c) = self.checksum.as_mut() {
            for p in pieces {
                c.update(p);
            }
        }
        self.size += block_len as u64;
        let grid = ShardGrid { len, stride: HH_LEN + len, offset: HH_LEN };
        let n = layout.total() * grid.stride;
        let out = &mut out[..n];
        let mut data = Pieces::new(pieces);
        for frame in out.chunks_exact_mut(grid.stride).take(layout.data) {
            let shard = &mut frame[grid.offset..grid.offset + grid.len];
            let copied = data.read_into(shard);
            shard[copied..].fill(0);
        }
        parity_in_place(layout, out, grid)?;
        hash_frames(out, grid.stride, key);
        Ok(n)
    }
}

/// Digests of an upload so far.
#[napi(object)]
pub struct UploadDigest {
    /// The requested checksum's digest bytes, absent when none was requested.
    pub checksum: Option<Buffer>,
    /// Bytes seen.
    pub size: i64,
}

pool_task! {
    /// Off-thread `UploadHasher.encodeBlock`.
    UploadEncodeTask {
        claim: Claim<UploadState>, pieces: Vec<Buffer>, layout: Layout, key: Key, out: Buffer,
    } -> u32 => |t| {
        let views: Vec<&[u8]> = t.pieces.iter().map(|p| p.as_ref()).collect();
        Ok(t.claim.with(|s| s.encode(&views, t.layout, t.key, &mut t.out))? as u32)
    }
}

/// The running state of one upload: an optional S3 checksum and the fused per-block pass. Calls apply in
/// order; await an async call before making the next one.
#[napi]
pub struct UploadHasher {
    shared: Shared<UploadState>,
}

#[napi]
impl UploadHasher {
    /// `checksum`: the S3 checksum to compute (none when omitted or null).
    #[napi(constructor)]
    pub fn new(checksum: Option<ChecksumAlgorithm>) -> Self {
        let state = UploadState { checksum: checksum.map(HashState::new), size: 0 };
        UploadHasher { shared: Shared::new(state) }
    }

    /// Adds bytes to the checksum without erasure coding them (sync, for small inputs).
    #[napi]
    pub fn update(&self, data: &[u8]) -> Result<()> {
        self.shared.claim("UploadHasher")?.with(|s| {
            if let Some(c) = s.checksum.as_mut() {
                c.update(data);
            }
            s.size += data.len() as u64;
        });
        Ok(())
    }

    /// Adds the block made of `pieces` to the checksum and writes its framed shards back to back into `out`
    /// (`data + parity` frames of `32 + shardSize` bytes: HighwayHash-256 with `key`, then the shard).
    /// Returns the bytes written.
    #[napi]
    pub fn encode_block(
        &self,
        pieces: Vec<&[u8]>,
        data: u32,
        parity: u32,
        key: &[u8],
        mut out: BufferSlice,
    ) -> Result<u32> {
        let (layout, key) = (Layout::new(data, parity)?, key_of(key)?);
        Ok(self.shared.claim("UploadHasher")?.with(|s| s.encode(&pieces, layout, key, &mut out))? as u32)
    }

    /// `encodeBlock` on the libuv thread pool (`pieces` and `out` must not be touched until it resolves).
    #[napi]
    pub fn encode_block_async(
        &self,
        pieces: Vec<Buffer>,
        data: u32,
        parity: u32,
        key: &[u8],
        out: Buffer,
    ) -> Result<AsyncTask<UploadEncodeTask>> {
        let (layout, key) = (Layout::new(data, parity)?, key_of(key)?);
        let claim = self.shared.claim("UploadHasher")?;
        Ok(AsyncTask::new(UploadEncodeTask { claim, pieces, layout, key, out }))
    }

    /// The checksum of everything added so far (the upload may go on).
    #[napi]
    pub fn finish(&self) -> Result<UploadDigest> {
        let (checksum, size) =
            self.shared.claim("UploadHasher")?.with(|s| (s.checksum.as_ref().map(HashState::digest), s.size));
        Ok(UploadDigest { checksum: checksum.map(Buffer::from), size: size as i64 })
    }
}
