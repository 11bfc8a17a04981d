//! The ETag MD5s of every upload of the process, hashed together by one batcher shared by all worker
//! threads (the addon is loaded once per process: this module's registry is too). md5x.rs hashes two or
//! three streams as interleaved scalar chains and four to eight in the lanes of AVX2 registers, a byte of
//! each for half (two lanes) to a fifth (eight) of what it costs alone; one worker rarely has several
//! uploads, the process often does (warp's 4 PUTs on 2 workers).
//!
//! An upload's MD5 lags its body by a few MiB: `push` keeps the upload's pieces (its Buffers, no copy) and
//! says when a pass is due (LAG_BYTES waiting). Passes run on the libuv pool (`hashAsync`), one thread at a
//! time, each over the streams whose bytes wait, in lanes, an equal amount each where it can (`plan`); a
//! call that finds passes under way leaves its stream to them. `hashAsync(true)` (before the digest, or for
//! pieces the caller reuses) waits until all of one stream is hashed, the others' waiting bytes taken along.
//!
//! Lifetimes: a piece is referenced (its Buffer) until hashed; the Buffers hashed go back to the stream's
//! owner thread to be released (its next call), never from a pool thread, except for a stream whose JS
//! object was collected during a pass. A worker thread that ends waits in its environment's cleanup for
//! passes reading its pieces, and releases the pieces still waiting.
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::md5::Md5;
use crate::md5x::{update_lanes, LANES};
use crate::shared::invalid;

/// Bytes an upload's MD5 may lag before its next `push` asks for a pass.
pub const LAG_BYTES: u64 = 2 << 20;
/// Bytes a stream waits at most for other streams' bytes to hash in lanes with (see `plan`).
const KEEP_BYTES: u64 = 6 << 20;
/// Bytes of each of three streams that make a pass in lanes worth it.
const MIN_PASS_BYTES: u64 = 1 << 20;
/// Uploads in the process from which a stream waits for others' bytes (below, it hashes at once, the others
/// along). Two lanes pay as well now (md5x.rs), but waiting for one partner instead of two changed nothing
/// measured: the bytes hashed alone (`Md5StreamStats.lanes[0]`) stayed 14% under warp's four 64 MiB PUTs and
/// 31% under two (bench/warp/README.md, session 19), while passes of three lanes became passes of two.
const MIN_LANES: usize = 3;

struct Stream {
    md5: Md5,
    env: usize,
    /// Pieces not yet hashed, in order; `offset` bytes of the first are.
    pieces: VecDeque<Buffer>,
    offset: usize,
    waiting: u64,
    /// A pass is reading its pieces (only the owner's `push` appends meanwhile).
    busy: bool,
    /// Its JS object was collected during a pass: the pass removes it.
    dropped: bool,
    /// Its owner waits for all of it to be hashed.
    flush: bool,
    /// Pieces hashed, released on the owner's thread.
    done: Vec<Buffer>,
}

#[derive(Default)]
struct Registry {
    streams: HashMap<u64, Stream>,
    next_id: u64,
    envs: HashSet<usize>,
    /// A thread is making passes.
    passing: bool,
    stats: Stats,
}

/// Counters of the batcher (process-wide), for tests and benchmarks.
#[napi(object)]
#[derive(Default, Clone)]
pub struct Md5StreamStats {
    /// Passes made.
    pub passes: i64,
    /// Bytes hashed by the passes.
    pub bytes: i64,
    /// 64-byte steps of the passes' kernels: `bytes / 64 / steps` is the lanes filled on average.
    pub steps: i64,
    /// Bytes hashed with k lanes live at `lanes[k - 1]` (k = 1..=LANES): what the cheaper kernels took.
    pub lanes: Vec<i64>,
}

type Stats = Md5StreamStats;

fn registry() -> &'static (Mutex<Registry>, Condvar) {
    static REGISTRY: OnceLock<(Mutex<Registry>, Condvar)> = OnceLock::new();
    REGISTRY.get_or_init(|| (Mutex::new(Registry::default()), Condvar::new()))
}

fn lock() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves the counts consistent (no kernel runs under it).
    registry().0.lock().unwrap_or_else(|p| p.into_inner())
}

/// One lane of a pass: the stream, its state, and raw views of the bytes it hashes.
struct Lane {
    id: u64,
    md5: Md5,
    views: Vec<(*const u8, usize)>,
    bytes: u64,
}

// SAFETY: the views point into Buffers the registry holds (and keeps, the stream being busy) until the pass
// ends; their environments wait in their cleanup hooks for busy streams.
unsafe impl Send for Lane {}

/// Up to `amount` bytes of the stream's waiting pieces, from the front.
fn views_of(s: &Stream, amount: u64) -> Vec<(*const u8, usize)> {
    let mut left = amount as usize;
    let mut out = Vec::new();
    for (k, p) in s.pieces.iter().enumerate() {
        if left == 0 {
            break;
        }
        let bytes: &[u8] = p.as_ref();
        let bytes = if k == 0 { &bytes[s.offset..] } else { bytes };
        let n = bytes.len().min(left);
        out.push((bytes.as_ptr(), n));
        left -= n;
    }
    out
}

/// Chooses a pass for stream `id` (waiting bytes, not busy): lanes and the bytes of each; none yet when it
/// should wait for other streams' bytes.
fn plan(reg: &Registry, id: u64, flush: bool) -> Vec<(u64, u64)> {
    let own = reg.streams[&id].waiting;
    let mut others: Vec<(u64, u64)> = reg
        .streams
        .iter()
        .filter(|(&k, s)| k != id && !s.busy && !s.dropped && s.waiting > 0)
        .map(|(&k, s)| (s.waiting, k))
        .collect();
    others.sort_unstable_by(|a, b| b.cmp(a));
    others.truncate(LANES - 1);
    // With three uploads or more in the process, equal amounts from three streams at least keep the lanes
    // full: a stream waits for the third-fullest to have MIN_PASS_BYTES, or for itself to have KEEP_BYTES
    // (then hashing all but LAG_BYTES). Fewer uploads: lanes would not pay, so hash at once; and a flush
    // hashes all of the stream. The other streams go along as far as the amount goes.
    let uploads = reg.streams.values().filter(|s| !s.dropped).count();
    let amount = if flush || uploads < MIN_LANES {
        own
    } else {
        let third = others.get(MIN_LANES - 2).map_or(0, |o| o.0.min(own));
        let even = if third >= MIN_PASS_BYTES { third } else { 0 };
        even.max(if own >= KEEP_BYTES { own - LAG_BYTES } else { 0 })
    };
    if amount == 0 {
        return Vec::new();
    }
    let mut lanes = vec![(id, amount)];
    lanes.extend(others.iter().map(|&(w, k)| (k, w.min(amount))));
    lanes
}

/// Blocks hashed with k lanes live (at index k - 1) when lanes of `blocks` blocks each run side by side
/// (a lane drops out once its blocks are done).
fn blocks_by_lanes(blocks: &[u64]) -> [u64; LANES] {
    let mut sorted = blocks.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = [0u64; LANES];
    for (k, &b) in sorted.iter().enumerate().take(LANES) {
        let next = sorted.get(k + 1).copied().unwrap_or(0);
        out[k] = (k as u64 + 1) * (b - next);
    }
    out
}

/// Hashes `lanes` (outside the lock) and records the result; the streams were marked busy. Returns the
/// lanes and the blocks hashed at each count of live lanes.
fn hash(mut lanes: Vec<Lane>) -> (Vec<Lane>, [u64; LANES]) {
    let mut states: Vec<Md5> = lanes.iter().map(|l| l.md5.clone()).collect();
    // SAFETY: see `Lane`.
    let inputs: Vec<Vec<&[u8]>> = lanes
        .iter()
        .map(|l| l.views.iter().map(|&(p, n)| unsafe { std::slice::from_raw_parts(p, n) }).collect())
        .collect();
    let blocks: Vec<u64> = states.iter().zip(&lanes).map(|(s, l)| (s.buffered as u64 + l.bytes) / 64).collect();
    update_lanes(&mut states, &inputs);
    drop(inputs);
    for (l, s) in lanes.iter_mut().zip(states) {
        l.md5 = s;
    }
    (lanes, blocks_by_lanes(&blocks))
}

/// Records a finished pass: states, pieces consumed (to `done`), busy cleared. Returns the Buffers of
/// streams dropped meanwhile (released by the caller, outside the lock).
fn record(reg: &mut Registry, lanes: &[Lane], ok: bool) -> Vec<Buffer> {
    let mut orphans = Vec::new();
    for l in lanes {
        let Some(s) = reg.streams.get_mut(&l.id) else { continue };
        s.busy = false;
        if ok {
            s.md5 = l.md5.clone();
            s.waiting -= l.bytes;
            let mut left = l.bytes as usize;
            while left > 0 {
                let first = s.pieces.front().map(|p| p.len() - s.offset).expect("bytes hashed were waiting");
                if left < first {
                    s.offset += left;
                    break;
                }
                left -= first;
                s.offset = 0;
                s.done.push(s.pieces.pop_front().expect("a piece"));
            }
        }
        if s.dropped {
            let s = reg.streams.remove(&l.id).expect("present");
            orphans.extend(s.pieces);
            orphans.extend(s.done);
        }
    }
    orphans
}

/// Asks for passes for stream `id`: with `flush` until nothing of it waits (returning then), else when it
/// waits LAG_BYTES or more. One thread makes the passes at a time (all lanes in one pass); a call that finds
/// it busy returns at once, that thread's next pass serving it (a flush waits for it). Returns the bytes of
/// `id` still waiting.
fn run(id: u64, flush: bool) -> Result<f64> {
    let (_, cv) = registry();
    let mut reg = lock();
    match reg.streams.get_mut(&id) {
        Some(s) => s.flush |= flush,
        None => return Ok(0.0),
    }
    loop {
        if !reg.passing {
            reg.passing = true;
            let (back, outcome) = passes(reg);
            reg = back;
            reg.passing = false;
            cv.notify_all();
            outcome?;
        }
        let Some(s) = reg.streams.get_mut(&id) else { return Ok(0.0) };
        if !flush || (s.waiting == 0 && !s.busy) {
            s.flush = false;
            return Ok(s.waiting as f64);
        }
        reg = cv.wait(reg).unwrap_or_else(|p| p.into_inner());
    }
}

/// The next pass to make: a stream asking for a flush, else the one waiting most of those waiting
/// LAG_BYTES or more that this run of passes has not served yet.
fn next_trigger(reg: &Registry, served: &HashSet<u64>) -> Option<(u64, bool)> {
    let live = |s: &Stream| !s.busy && !s.dropped && s.waiting > 0;
    if let Some((&k, _)) = reg.streams.iter().find(|(_, s)| live(s) && s.flush) {
        return Some((k, true));
    }
    reg.streams
        .iter()
        .filter(|(k, s)| live(s) && s.waiting >= LAG_BYTES && !served.contains(k))
        .max_by_key(|(_, s)| s.waiting)
        .map(|(&k, _)| (k, false))
}

/// Passes until none is due (the caller set `passing`); the lock is let go while hashing.
fn passes(mut reg: MutexGuard<'static, Registry>) -> (MutexGuard<'static, Registry>, Result<()>) {
    let (_, cv) = registry();
    let mut served = HashSet::new();
    while let Some((id, flush)) = next_trigger(&reg, &served) {
        served.insert(id);
        let planned = plan(&reg, id, flush);
        if planned.is_empty() {
            continue;
        }
        let lanes: Vec<Lane> = planned
            .into_iter()
            .map(|(k, amount)| {
                let s = reg.streams.get_mut(&k).expect("planned");
                s.busy = true;
                Lane { id: k, md5: s.md5.clone(), views: views_of(s, amount), bytes: amount }
            })
            .collect();
        drop(reg);
        let ids: Vec<(u64, u64)> = lanes.iter().map(|l| (l.id, l.bytes)).collect();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hash(lanes)));
        reg = lock();
        let (orphans, failed) = match outcome {
            Ok((lanes, by_lanes)) => {
                let stats = &mut reg.stats;
                stats.passes += 1;
                stats.bytes += lanes.iter().map(|l| l.bytes as i64).sum::<i64>();
                stats.lanes.resize(LANES, 0);
                for (k, &b) in by_lanes.iter().enumerate() {
                    stats.steps += (b / (k as u64 + 1)) as i64;
                    stats.lanes[k] += 64 * b as i64;
                }
                (record(&mut reg, &lanes, true), false)
            }
            Err(_) => {
                let stub: Vec<Lane> =
                    ids.iter().map(|&(k, b)| Lane { id: k, md5: Md5::new(), views: Vec::new(), bytes: b }).collect();
                (record(&mut reg, &stub, false), true)
            }
        };
        cv.notify_all();
        if !orphans.is_empty() {
            drop(reg);
            drop(orphans);
            reg = lock();
        }
        if failed {
            return (reg, Err(Error::from_reason("Md5Stream: the MD5 kernel failed")));
        }
    }
    (reg, Ok(()))
}

/// Releases (on this, the owner's thread) the pieces a pass is done with.
fn take_done(id: u64) -> Vec<Buffer> {
    lock().streams.get_mut(&id).map(|s| std::mem::take(&mut s.done)).unwrap_or_default()
}

/// When an environment (a worker thread) ends: waits for the passes reading its pieces, then releases its
/// streams' pieces and forgets them.
fn end_env(env: usize) {
    let (_, cv) = registry();
    let mut reg = lock();
    while reg.streams.values().any(|s| s.env == env && s.busy) {
        reg = cv.wait(reg).unwrap_or_else(|p| p.into_inner());
    }
    let ids: Vec<u64> = reg.streams.iter().filter(|(_, s)| s.env == env).map(|(&k, _)| k).collect();
    let gone: Vec<Stream> = ids.iter().filter_map(|k| reg.streams.remove(k)).collect();
    reg.envs.remove(&env);
    drop(reg);
    drop(gone);
}

/// The ETag MD5 of one upload, hashed by the process's batcher (see the module's comment). Calls in order;
/// await `hashAsync` before the next call.
#[napi]
pub struct Md5Stream {
    id: u64,
}

#[napi]
impl Md5Stream {
    /// `state`: an MD5 state (`md5State`, updated since) to go on from; a fresh one when omitted.
    #[napi(constructor)]
    pub fn new(env: Env, state: Option<Buffer>) -> Result<Self> {
        let md5 = match state {
            Some(s) => Md5::load(&s).ok_or_else(|| invalid("Md5Stream: not an MD5 state"))?,
            None => Md5::new(),
        };
        let key = env.raw() as usize;
        let mut reg = lock();
        if reg.envs.insert(key) {
            if let Err(e) = env.add_env_cleanup_hook(key, end_env) {
                reg.envs.remove(&key);
                return Err(e);
            }
        }
        reg.next_id += 1;
        let id = reg.next_id;
        let stream = Stream {
            md5,
            env: key,
            pieces: VecDeque::new(),
            offset: 0,
            waiting: 0,
            busy: false,
            dropped: false,
            flush: false,
            done: Vec::new(),
        };
        reg.streams.insert(id, stream);
        Ok(Md5Stream { id })
    }

    /// Adds the pieces (kept, not copied: they must not change until hashed). With `now`, when nothing of
    /// this stream waits, they are hashed here instead (small inputs). True when a pass is due (`hashAsync`).
    #[napi]
    pub fn push(&self, pieces: Vec<Buffer>, now: bool) -> Result<bool> {
        let mut reg = lock();
        let s = reg.streams.get_mut(&self.id).ok_or_else(|| invalid("Md5Stream: gone"))?;
        let done = std::mem::take(&mut s.done);
        if now && !s.busy && s.waiting == 0 {
            for p in &pieces {
                s.md5.update(p);
            }
            drop(reg);
            drop(done);
            return Ok(false);
        }
        for p in pieces {
            if !p.is_empty() {
                s.waiting += p.len() as u64;
                s.pieces.push_back(p);
            }
        }
        let due = s.waiting >= LAG_BYTES;
        drop(reg);
        drop(done);
        Ok(due)
    }

    /// A pass on the libuv pool: with `flush`, until nothing of this stream waits. Resolves to the bytes
    /// still waiting.
    #[napi]
    pub fn hash_async(&self, flush: bool) -> AsyncTask<Md5PassTask> {
        AsyncTask::new(Md5PassTask { id: self.id, flush })
    }

    /// The MD5 of everything pushed (the stream may go on); fails while bytes wait (`hashAsync(true)` first).
    #[napi]
    pub fn digest(&self) -> Result<Buffer> {
        let reg = lock();
        let s = reg.streams.get(&self.id).ok_or_else(|| invalid("Md5Stream: gone"))?;
        if s.busy || s.waiting > 0 {
            return Err(invalid("Md5Stream.digest: bytes wait to be hashed; await hashAsync(true) first"));
        }
        Ok(s.md5.digest().to_vec().into())
    }

    /// Ends the stream (an upload given up): its waiting pieces are released now rather than when it is
    /// collected. Later calls fail.
    #[napi]
    pub fn close(&self) {
        forget(self.id);
    }
}

impl Drop for Md5Stream {
    fn drop(&mut self) {
        forget(self.id);
    }
}

/// Removes stream `id` and releases its pieces (here, the owner's thread); a stream in a pass is removed by it.
fn forget(id: u64) {
    let mut reg = lock();
    let gone = match reg.streams.get_mut(&id) {
        Some(s) if s.busy => {
            s.dropped = true;
            std::mem::take(&mut s.done)
        }
        Some(_) => {
            let s = reg.streams.remove(&id).expect("present");
            s.pieces.into_iter().chain(s.done).collect()
        }
        None => Vec::new(),
    };
    drop(reg);
    drop(gone);
}

/// The task of `Md5Stream.hashAsync`.
pub struct Md5PassTask {
    id: u64,
    flush: bool,
}

#[napi]
impl Task for Md5PassTask {
    type Output = f64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<f64> {
        run(self.id, self.flush)
    }

    fn resolve(&mut self, _env: Env, output: f64) -> Result<f64> {
        drop(take_done(self.id));
        Ok(output)
    }
}

/// The batcher's counters since the process started.
#[napi]
pub fn md5_stream_stats() -> Md5StreamStats {
    let mut stats = lock().stats.clone();
    stats.lanes.resize(LANES, 0);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(waiting: u64) -> Stream {
        Stream {
            md5: Md5::new(),
            env: 0,
            pieces: VecDeque::new(),
            offset: 0,
            waiting,
            busy: false,
            dropped: false,
            flush: false,
            done: Vec::new(),
        }
    }

    fn registry_of(waiting: &[u64]) -> Registry {
        let mut reg = Registry::default();
        for (k, &w) in waiting.iter().enumerate() {
            reg.streams.insert(k as u64, stream(w));
        }
        reg
    }

    #[test]
    fn plans_equal_amounts_from_three_streams() {
        let m = 1 << 20;
        let reg = registry_of(&[2 * m, m, m, 0]);
        let mut p = plan(&reg, 0, false);
        p.sort_unstable();
        assert_eq!(p, vec![(0, m), (1, m), (2, m)]);
        // Flushing hashes all of the asking stream, the others as far as they go.
        let mut p = plan(&reg, 0, true);
        p.sort_unstable();
        assert_eq!(p, vec![(0, 2 * m), (1, m), (2, m)]);
    }

    #[test]
    fn waits_for_other_streams_then_bounds_the_lag() {
        let m = 1 << 20;
        // Four uploads, one other with waiting bytes: wait for a third.
        assert_eq!(plan(&registry_of(&[2 * m, m, 0, 0]), 0, false), vec![]);
        assert_eq!(plan(&registry_of(&[3 * m, 2 * m, m / 2, 0]), 0, false), vec![]);
        // Waiting KEEP_BYTES: all but LAG_BYTES, the others along.
        let mut p = plan(&registry_of(&[KEEP_BYTES, m, 0, 0]), 0, false);
        p.sort_unstable();
        assert_eq!(p, vec![(0, KEEP_BYTES - LAG_BYTES), (1, m)]);
        let mut p = plan(&registry_of(&[10 * m, m, m]), 0, false);
        p.sort_unstable();
        assert_eq!(p, vec![(0, 10 * m - LAG_BYTES), (1, m), (2, m)]);
    }

    #[test]
    fn fewer_than_three_uploads_hash_at_once() {
        let m = 1 << 20;
        assert_eq!(plan(&registry_of(&[3 * m]), 0, false), vec![(0, 3 * m)]);
        let mut p = plan(&registry_of(&[2 * m, 3 * m]), 0, false);
        p.sort_unstable();
        assert_eq!(p, vec![(0, 2 * m), (1, 2 * m)]);
    }

    #[test]
    fn counts_the_blocks_hashed_at_each_count_of_live_lanes() {
        // Lanes of 5, 2, 2 and 0 blocks: 2 steps with three live, then 3 with one.
        let mut want = [0u64; LANES];
        want[0] = 3;
        want[2] = 6;
        assert_eq!(blocks_by_lanes(&[2, 5, 0, 2]), want);
        assert_eq!(blocks_by_lanes(&[]), [0u64; LANES]);
        let all = blocks_by_lanes(&[1; LANES]);
        assert_eq!(all[LANES - 1], LANES as u64);
    }

    #[test]
    fn busy_and_dropped_streams_are_not_taken() {
        let m = 1 << 20;
        let mut reg = registry_of(&[2 * m, m, m, m]);
        reg.streams.get_mut(&1).unwrap().busy = true;
        reg.streams.get_mut(&2).unwrap().dropped = true;
        let mut p = plan(&reg, 0, true);
        p.sort_unstable();
        assert_eq!(p, vec![(0, 2 * m), (3, m)]);
    }
}
