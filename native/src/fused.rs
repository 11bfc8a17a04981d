//! The fused passes over one object block, shaped for storage's shard files, where each shard file
//! holds, per object block, `[32-byte HighwayHash-256 of the shard][shard]` ("a framed shard").
//!
//! Upload: `UploadHasher.encodeBlock` updates the running ETag MD5 and the requested checksum,
//! erasure-codes the block and hashes every shard, in one call. Read: `readBlock` verifies the
//! framed shards it is given, reports the bad ones and rebuilds the block from the good ones.
//! Heal: `healBlock` rebuilds the framed shards that are missing or bad.
use highway::Key;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::checksum::{ChecksumAlgorithm, HashState};
use crate::erasure::{as_slices, check_out, check_shards, decode, encode_into, rebuild_missing, shard_len, Layout, ShardGrid};
use crate::highway::{hash256_into, key_of, HH_LEN};
use crate::md5::Md5;
use crate::shared::{Claim, Shared};

/// Writes all framed shards of `block` into `out`, back to back: shard `i` at
/// `i * (32 + shardSize)`. Returns the bytes written.
pub fn encode_framed(block: &[u8], layout: Layout, key: Key, out: &mut [u8]) -> Result<usize> {
    let len = shard_len(block.len(), layout.data);
    let grid = ShardGrid { len, stride: HH_LEN + len, offset: HH_LEN };
    let n = layout.total() * grid.stride;
    check_out(out.len(), n, "encodeBlock")?;
    encode_into(block, layout, &mut out[..n], grid)?;
    hash_frames(&mut out[..n], grid.stride, key);
    Ok(n)
}

/// Fills the hash slot of each frame of `out` with the HighwayHash-256 of its shard.
fn hash_frames(out: &mut [u8], stride: usize, key: Key) {
    for frame in out.chunks_exact_mut(stride) {
        let (hash, shard) = frame.split_at_mut(HH_LEN);
        hash256_into(key, shard, hash);
    }
}

/// Whether a framed shard is intact: right length and its hash matches.
fn frame_ok(frame: &[u8], len: Option<usize>, key: Key) -> bool {
    if frame.len() < HH_LEN || len.is_some_and(|l| frame.len() != HH_LEN + l) {
        return false;
    }
    let mut hash = [0u8; HH_LEN];
    hash256_into(key, &frame[HH_LEN..], &mut hash);
    hash[..] == frame[..HH_LEN]
}

/// Indexes of the present frames that fail verification (`len`: expected shard length, if known).
fn bad_frames(frames: &[Option<&[u8]>], len: Option<usize>, key: Key) -> Vec<u32> {
    (0..frames.len())
        .filter(|&i| frames[i].is_some_and(|f| !frame_ok(f, len, key)))
        .map(|i| i as u32)
        .collect()
}

/// The shards of the frames that passed verification (`None` for missing or bad ones).
fn good_shards<'a>(frames: &[Option<&'a [u8]>], bad: &[u32]) -> Vec<Option<&'a [u8]>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| f.filter(|_| !bad.contains(&(i as u32))).map(|f| &f[HH_LEN..]))
        .collect()
}

fn enough(shards: &[Option<&[u8]>], layout: Layout) -> bool {
    shards.iter().filter(|s| s.is_some()).count() >= layout.data
}

/// Result of `readBlock`.
#[napi(object)]
pub struct ReadResult {
    /// Whether the block was decoded into `out`; false when too few good shards were given
    /// (read more of them and call again).
    pub decoded: bool,
    /// Indexes of the given framed shards that are corrupt (hash mismatch or wrong length).
    pub bad: Vec<u32>,
}

fn read_block_impl(frames: &[Option<&[u8]>], layout: Layout, block_len: usize, key: Key, out: &mut [u8]) -> Result<ReadResult> {
    check_out(out.len(), block_len, "readBlock")?;
    let len = shard_len(block_len, layout.data);
    let bad = bad_frames(frames, Some(len), key);
    let shards = good_shards(frames, &bad);
    if shards.len() != layout.total() {
        check_shards(&shards, layout, Some(len))?; // fails with the count message
    }
    let decoded = enough(&shards, layout);
    if decoded {
        decode(&shards, layout, block_len, out)?;
    }
    Ok(ReadResult { decoded, bad })
}

/// Verifies the given framed shards (`null` for unread ones) and, when enough are good, decodes
/// the block of `blockLength` bytes from them into `out`. Sync form.
#[napi]
pub fn read_block(
    frames: Vec<Option<&[u8]>>,
    data: u32,
    parity: u32,
    block_length: u32,
    key: &[u8],
    mut out: BufferSlice,
) -> Result<ReadResult> {
    read_block_impl(&frames, Layout::new(data, parity)?, block_length as usize, key_of(key)?, &mut out)
}

/// Off-thread `readBlock`.
pub struct ReadBlockTask {
    frames: Vec<Option<Buffer>>,
    layout: Layout,
    block_len: usize,
    key: Key,
    out: Buffer,
}

#[napi]
impl Task for ReadBlockTask {
    type Output = ReadResult;
    type JsValue = ReadResult;

    fn compute(&mut self) -> Result<ReadResult> {
        read_block_impl(&as_slices(&self.frames), self.layout, self.block_len, self.key, &mut self.out)
    }

    fn resolve(&mut self, _env: Env, output: ReadResult) -> Result<ReadResult> {
        Ok(output)
    }
}

/// `readBlock` on the libuv thread pool (`out` must not be touched until it resolves).
#[napi]
pub fn read_block_async(
    frames: Vec<Option<Buffer>>,
    data: u32,
    parity: u32,
    block_length: u32,
    key: &[u8],
    out: Buffer,
) -> Result<AsyncTask<ReadBlockTask>> {
    let (layout, key) = (Layout::new(data, parity)?, key_of(key)?);
    Ok(AsyncTask::new(ReadBlockTask { frames, layout, block_len: block_length as usize, key, out }))
}

/// Indexes of the given framed shards (`null` entries skipped) whose hash does not match.
#[napi]
pub fn verify_frames(frames: Vec<Option<&[u8]>>, key: &[u8]) -> Result<Vec<u32>> {
    Ok(bad_frames(&frames, None, key_of(key)?))
}

/// Off-thread `verifyFrames`.
pub struct VerifyTask {
    frames: Vec<Option<Buffer>>,
    key: Key,
}

#[napi]
impl Task for VerifyTask {
    type Output = Vec<u32>;
    type JsValue = Vec<u32>;

    fn compute(&mut self) -> Result<Vec<u32>> {
        Ok(bad_frames(&as_slices(&self.frames), None, self.key))
    }

    fn resolve(&mut self, _env: Env, output: Vec<u32>) -> Result<Vec<u32>> {
        Ok(output)
    }
}

/// `verifyFrames` on the libuv thread pool.
#[napi]
pub fn verify_frames_async(frames: Vec<Option<Buffer>>, key: &[u8]) -> Result<AsyncTask<VerifyTask>> {
    Ok(AsyncTask::new(VerifyTask { frames, key: key_of(key)? }))
}

/// Result of `healBlock`.
#[napi(object)]
pub struct HealResult {
    /// The rebuilt framed shards for `indexes`, back to back; absent when too few good shards.
    pub rebuilt: Option<Buffer>,
    /// Which shards `rebuilt` holds: every index that was missing or bad, ascending.
    pub indexes: Vec<u32>,
    /// Indexes of the given framed shards that are corrupt.
    pub bad: Vec<u32>,
}

type HealOutput = (Option<Vec<u8>>, Vec<u32>, Vec<u32>);

fn heal_block_impl(frames: &[Option<&[u8]>], layout: Layout, block_len: usize, key: Key) -> Result<HealOutput> {
    let len = shard_len(block_len, layout.data);
    let bad = bad_frames(frames, Some(len), key);
    let shards = good_shards(frames, &bad);
    let indexes: Vec<u32> = (0..shards.len()).filter(|&i| shards[i].is_none()).map(|i| i as u32).collect();
    if shards.len() == layout.total() && !enough(&shards, layout) {
        return Ok((None, indexes, bad));
    }
    let (mut out, _, _) = rebuild_missing(&shards, layout, Some(len), HH_LEN)?;
    hash_frames(&mut out, HH_LEN + len, key);
    Ok((Some(out), indexes, bad))
}

/// Verifies the given framed shards and rebuilds, framed, every shard that is missing (`null`)
/// or bad, ready to write to the drives that lack it. Sync form.
#[napi]
pub fn heal_block(frames: Vec<Option<&[u8]>>, data: u32, parity: u32, block_length: u32, key: &[u8]) -> Result<HealResult> {
    let (rebuilt, indexes, bad) =
        heal_block_impl(&frames, Layout::new(data, parity)?, block_length as usize, key_of(key)?)?;
    Ok(HealResult { rebuilt: rebuilt.map(Buffer::from), indexes, bad })
}

/// Off-thread `healBlock`.
pub struct HealBlockTask {
    frames: Vec<Option<Buffer>>,
    layout: Layout,
    block_len: usize,
    key: Key,
}

#[napi]
impl Task for HealBlockTask {
    type Output = HealOutput;
    type JsValue = HealResult;

    fn compute(&mut self) -> Result<HealOutput> {
        heal_block_impl(&as_slices(&self.frames), self.layout, self.block_len, self.key)
    }

    fn resolve(&mut self, _env: Env, (rebuilt, indexes, bad): HealOutput) -> Result<HealResult> {
        Ok(HealResult { rebuilt: rebuilt.map(Buffer::from), indexes, bad })
    }
}

/// `healBlock` on the libuv thread pool.
#[napi]
pub fn heal_block_async(
    frames: Vec<Option<Buffer>>,
    data: u32,
    parity: u32,
    block_length: u32,
    key: &[u8],
) -> Result<AsyncTask<HealBlockTask>> {
    let (layout, key) = (Layout::new(data, parity)?, key_of(key)?);
    Ok(AsyncTask::new(HealBlockTask { frames, layout, block_len: block_length as usize, key }))
}

/// Running digests of one upload (an object or a part).
pub struct UploadState {
    md5: Md5,
    checksum: Option<HashState>,
    size: u64,
}

impl UploadState {
    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some(c) = self.checksum.as_mut() {
            c.update(data);
        }
        self.size += data.len() as u64;
    }

    fn encode(&mut self, block: &[u8], layout: Layout, key: Key, out: &mut [u8]) -> Result<usize> {
        let len = shard_len(block.len(), layout.data);
        check_out(out.len(), layout.total() * (HH_LEN + len), "encodeBlock")?;
        self.update(block);
        encode_framed(block, layout, key, out)
    }
}

/// Digests of an upload so far.
#[napi(object)]
pub struct UploadDigest {
    /// MD5 of all bytes (the ETag of a single-part upload, or of one part).
    pub md5: Buffer,
    /// The requested checksum's digest bytes, absent when none was requested.
    pub checksum: Option<Buffer>,
    /// Bytes seen.
    pub size: i64,
}

/// Off-thread `UploadHasher.encodeBlock`.
pub struct UploadEncodeTask {
    claim: Claim<UploadState>,
    block: Buffer,
    layout: Layout,
    key: Key,
    out: Buffer,
}

#[napi]
impl Task for UploadEncodeTask {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<u32> {
        let (block, layout, key, out) = (&self.block, self.layout, self.key, &mut self.out);
        Ok(self.claim.with(|s| s.encode(block, layout, key, out))? as u32)
    }

    fn resolve(&mut self, _env: Env, output: u32) -> Result<u32> {
        Ok(output)
    }
}

/// The running state of one upload: ETag MD5 plus an optional S3 checksum, and the fused
/// per-block pass. Calls apply in order; await an async call before making the next one.
#[napi]
pub struct UploadHasher {
    shared: Shared<UploadState>,
}

#[napi]
impl UploadHasher {
    /// `checksum`: the S3 checksum to compute besides the MD5 (none when omitted or null).
    #[napi(constructor)]
    pub fn new(checksum: Option<ChecksumAlgorithm>) -> Self {
        let state = UploadState { md5: Md5::new(), checksum: checksum.map(HashState::new), size: 0 };
        UploadHasher { shared: Shared::new(state) }
    }

    /// Adds bytes to the digests without erasure coding them (sync, for small inputs).
    #[napi]
    pub fn update(&self, data: &[u8]) -> Result<()> {
        self.shared.claim("UploadHasher")?.with(|s| s.update(data));
        Ok(())
    }

    /// Adds `block` to the digests and writes its framed shards back to back into `out`
    /// (`data + parity` frames of `32 + shardSize` bytes: HighwayHash-256 with `key`, then the
    /// shard). Returns the bytes written.
    #[napi]
    pub fn encode_block(&self, block: &[u8], data: u32, parity: u32, key: &[u8], mut out: BufferSlice) -> Result<u32> {
        let (layout, key) = (Layout::new(data, parity)?, key_of(key)?);
        Ok(self.shared.claim("UploadHasher")?.with(|s| s.encode(block, layout, key, &mut out))? as u32)
    }

    /// `encodeBlock` on the libuv thread pool (`out` must not be touched until it resolves).
    #[napi]
    pub fn encode_block_async(
        &self,
        block: Buffer,
        data: u32,
        parity: u32,
        key: &[u8],
        out: Buffer,
    ) -> Result<AsyncTask<UploadEncodeTask>> {
        let (layout, key) = (Layout::new(data, parity)?, key_of(key)?);
        let claim = self.shared.claim("UploadHasher")?;
        Ok(AsyncTask::new(UploadEncodeTask { claim, block, layout, key, out }))
    }

    /// The digests of everything added so far (the upload may go on).
    #[napi]
    pub fn finish(&self) -> Result<UploadDigest> {
        let (md5, checksum, size) = self
            .shared
            .claim("UploadHasher")?
            .with(|s| (s.md5.digest().to_vec(), s.checksum.as_ref().map(HashState::digest), s.size));
        Ok(UploadDigest { md5: md5.into(), checksum: checksum.map(Buffer::from), size: size as i64 })
    }
}
