//! Framed shards, the unit of storage's shard files: each shard file holds, per object block,
//! `[32-byte HighwayHash-256 of the shard][shard]` (a "frame").
//!
//! Writing: the upload pass (upload.rs) with `hash_frames`. Reading: `readBlock` verifies the
//! frames it is given, reports the bad ones and decodes the block from the good ones. Healing:
//! `healBlock` rebuilds, framed, the shards that are missing or bad.
use highway::Key;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::erasure::{check_disjoint, check_out, check_shards, decode, rebuild_missing, shard_len, Layout};
use crate::highway::{hash256_into, key_of, HH_LEN};
use crate::shared::slices;

/// Fills the hash slot of each frame of `out` with the HighwayHash-256 of its shard.
pub fn hash_frames(out: &mut [u8], stride: usize, key: Key) {
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
    (0..frames.len()).filter(|&i| frames[i].is_some_and(|f| !frame_ok(f, len, key))).map(|i| i as u32).collect()
}

/// The shards of the frames that passed verification (`None` for missing or bad ones).
fn good_shards<'a>(frames: &[Option<&'a [u8]>], bad: &[u32]) -> Vec<Option<&'a [u8]>> {
    frames.iter().enumerate().map(|(i, f)| f.filter(|_| !bad.contains(&(i as u32))).map(|f| &f[HH_LEN..])).collect()
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

fn read_block_impl(
    frames: &[Option<&[u8]>],
    layout: Layout,
    block_len: usize,
    key: Key,
    out: &mut [u8],
) -> Result<ReadResult> {
    check_out(out.len(), block_len, "readBlock")?;
    check_disjoint(out, frames.iter().flatten().copied(), "readBlock")?;
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

sync_and_async! {
    /// Verifies the given framed shards (`null` for unread ones) and, when enough are good, decodes
    /// the block of `blockLength` bytes from them into `out`.
    fn read_block / read_block_async via ReadBlockTask (
        frames: Vec<Option<&[u8]>> | Vec<Option<Buffer>>, data: u32, parity: u32, block_length: u32, key: &[u8],
        out: BufferSlice | Buffer,
    ) -> ReadResult {
        let layout: Layout = Layout::new(data, parity)?;
        let block_len: usize = block_length as usize;
        let key: Key = key_of(key)?;
        run read_block_impl(&slices(frames), layout, block_len, key, out)?
    }
}

sync_and_async! {
    /// Indexes of the given framed shards (`null` entries skipped) whose hash does not match.
    fn verify_frames / verify_frames_async via VerifyTask (
        frames: Vec<Option<&[u8]>> | Vec<Option<Buffer>>, key: &[u8],
    ) -> Vec<u32> {
        let key: Key = key_of(key)?;
        run bad_frames(&slices(frames), None, key)
    }
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

pub type HealOutput = (Option<Vec<u8>>, Vec<u32>, Vec<u32>);

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

impl From<HealOutput> for HealResult {
    fn from((rebuilt, indexes, bad): HealOutput) -> Self {
        HealResult { rebuilt: rebuilt.map(Buffer::from), indexes, bad }
    }
}

sync_and_async! {
    /// Verifies the given framed shards and rebuilds, framed, every shard that is missing (`null`)
    /// or bad, ready to write to the drives that lack it.
    fn heal_block / heal_block_async via HealBlockTask (
        frames: Vec<Option<&[u8]>> | Vec<Option<Buffer>>, data: u32, parity: u32, block_length: u32, key: &[u8],
    ) -> HealOutput as HealResult {
        let layout: Layout = Layout::new(data, parity)?;
        let block_len: usize = block_length as usize;
        let key: Key = key_of(key)?;
        run heal_block_impl(&slices(frames), layout, block_len, key)?
    }
}

/// The task of `readShardFramesAsync`: a span of a shard file (opened by path, closed when done) read frame
/// by frame, each frame's hash checked as soon as it is in (while its bytes are still in the cache the
/// read left them in).
pub struct ReadShardFramesTask {
    path: String,
    position: i64,
    stride: usize,
    out: Buffer,
    key: Key,
}

/// Reads `out.len()` bytes of the file at `path` from `position` on into `out`, frame by frame (`stride`
/// bytes each, the last one possibly shorter), checking every frame's hash right after its read; the file
/// is opened first and closed before returning. Returns how many frames failed the check; an open or read
/// error (`errno <n> <syscall>`, as files.rs reports them) or the end of the file before `out` is full throws.
/// Without `key` the span is read in one go and nothing is checked (0 bad): for data that carries its own
/// authentication (sealed SSE packages), whose reader re-reads with the check when that fails.
pub(crate) fn read_shard_frames(
    path: &str,
    position: u64,
    stride: usize,
    out: &mut [u8],
    key: Option<Key>,
) -> Result<u32> {
    read_shard_frames_each(path, position, stride, out, key, |_, _| {})
}

/// `read_shard_frames`, calling `good(at, frame)` with each frame that passed its check right after the check
/// (`at`: the frame's offset in `out`), while its bytes are still in the cache (read_pass.rs). Without `key`
/// nothing is checked and `good` is not called.
pub(crate) fn read_shard_frames_each(
    path: &str,
    position: u64,
    stride: usize,
    out: &mut [u8],
    key: Option<Key>,
    mut good: impl FnMut(usize, &[u8]),
) -> Result<u32> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).map_err(|e| crate::files::os_error(e, "open"))?;
    let read_at = |buf: &mut [u8], at: u64| {
        file.read_exact_at(buf, at).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::new(Status::GenericFailure, "shard file too short")
            } else {
                crate::files::os_error(e, "read")
            }
        })
    };
    let Some(key) = key else {
        read_at(out, position)?;
        return Ok(0);
    };
    let mut bad = 0;
    let mut at = 0;
    for frame in out.chunks_mut(stride) {
        read_at(frame, position + at as u64)?;
        if frame_ok(frame, None, key) {
            good(at, frame);
        } else {
            bad += 1;
        }
        at += frame.len();
    }
    Ok(bad)
}

#[napi]
impl Task for ReadShardFramesTask {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<u32> {
        read_shard_frames(&self.path, self.position as u64, self.stride, &mut self.out, Some(self.key))
    }

    fn resolve(&mut self, _env: Env, output: u32) -> Result<u32> {
        Ok(output)
    }
}

/// `out.length` bytes of the shard file at `path` from `position` on, read into `out` on the libuv thread
/// pool frame by frame (`stride` bytes each, the last possibly shorter), each frame's HighwayHash-256 checked
/// right after its read: open, read, verify and close in one pool task, where node:fs's open and close were
/// a pool round trip each and the read and the verify one more (each costs the event loop a queued request
/// and a thread wake-up: the fixed cost of a ranged GET). Resolves to the number of frames that failed; an
/// open or read error or a short file rejects. `out` must stay unchanged until it settles.
#[napi]
pub fn read_shard_frames_async(
    path: String,
    position: i64,
    stride: u32,
    out: Buffer,
    key: &[u8],
) -> Result<AsyncTask<ReadShardFramesTask>> {
    if path.is_empty() || position < 0 || stride as usize <= HH_LEN {
        return Err(crate::shared::invalid(format!(
            "readShardFrames: bad path \"{path}\", position {position} or stride {stride}"
        )));
    }
    let key = key_of(key)?;
    Ok(AsyncTask::new(ReadShardFramesTask { path, position, stride: stride as usize, out, key }))
}

/// The task of `readShardsFramesAsync`: spans of several shard files read one after the other, as
/// `readShardFramesAsync` reads one.
pub struct ReadShardsFramesTask {
    paths: Vec<String>,
    positions: Vec<i64>,
    stride: usize,
    outs: Vec<Buffer>,
    /// None: read without checking (`verify` false).
    key: Option<Key>,
}

#[napi]
impl Task for ReadShardsFramesTask {
    type Output = Vec<u32>;
    type JsValue = Vec<u32>;

    fn compute(&mut self) -> Result<Vec<u32>> {
        let mut bad = Vec::with_capacity(self.paths.len());
        for ((path, position), out) in self.paths.iter().zip(&self.positions).zip(self.outs.iter_mut()) {
            bad.push(read_shard_frames(path, *position as u64, self.stride, out, self.key)?);
        }
        Ok(bad)
    }

    fn resolve(&mut self, _env: Env, output: Vec<u32>) -> Result<Vec<u32>> {
        Ok(output)
    }
}

/// The arguments of a read of several shard files' frames (`readShardsFramesAsync`, the file-ops queue's
/// FILE_OP_SHARDS): one position and one buffer per path, no empty path, no negative position, and frames
/// longer than their hash. `what` names the caller in the error.
pub(crate) fn check_shard_reads(
    what: &str,
    paths: &[String],
    positions: &[i64],
    outs: usize,
    stride: u32,
) -> Result<()> {
    if paths.is_empty()
        || paths.len() != positions.len()
        || paths.len() != outs
        || paths.iter().any(String::is_empty)
        || positions.iter().any(|&p| p < 0)
        || stride as usize <= HH_LEN
    {
        return Err(crate::shared::invalid(format!(
            "{what}: {} paths, {} positions, {outs} buffers, stride {stride}: bad arguments",
            paths.len(),
            positions.len(),
        )));
    }
    Ok(())
}

/// `readShardFramesAsync` for several shard files (the data shards of one batch of a GET) in one pool task:
/// `outs[i].length` bytes of `paths[i]` from `positions[i]` on, one file after the other. A GET's batch then
/// costs the event loop one queued request and one wake-up, not one per data shard. Resolves to the number
/// of frames that failed in each file; an open or read error or a short file rejects (for the first file
/// that failed). Every `outs[i]` must stay unchanged until it settles. With `verify` false the spans are
/// read whole and no hash is checked (always 0 bad): the reads of sealed (SSE) objects, whose packages carry
/// their own AEAD tags; a reader that finds a tag failing reads that range again with the check.
#[napi]
pub fn read_shards_frames_async(
    paths: Vec<String>,
    positions: Vec<i64>,
    stride: u32,
    outs: Vec<Buffer>,
    key: &[u8],
    verify: Option<bool>,
) -> Result<AsyncTask<ReadShardsFramesTask>> {
    check_shard_reads("readShardsFrames", &paths, &positions, outs.len(), stride)?;
    let key = key_of(key)?;
    let key = verify.unwrap_or(true).then_some(key);
    Ok(AsyncTask::new(ReadShardsFramesTask { paths, positions, stride: stride as usize, outs, key }))
}
