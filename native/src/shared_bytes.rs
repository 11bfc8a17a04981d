//! Bytes kept for every worker thread of the process: the process-wide spaces where one worker leaves what
//! it read (a metadata file under its identity, a verified batch of a version's part) and another one, whose
//! connections never saw that object, finds it instead of reading it again.
//!
//! A space is named; asking for a name again gives the same space (each worker asks at start). It holds at
//! most `max_bytes` of values, each at most a quarter of that, for at most `ttl_ms` after it was put: the
//! oldest go first. A value is copied in (`put`) and out (`get`): a thread never sees another's memory.
//! The spaces' counters (hits, misses, puts) are the process's, for tests and the bench.
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::Buffer;
use napi::Result;
use napi_derive::napi;

use crate::shared::invalid;

/// Spaces a process may have (each worker asks for the same few names).
const MAX_SPACES: usize = 16;
/// Bytes of a key (storage's keys are a version's identity or a drive's file path).
const MAX_KEY: usize = 4096;

struct Entry {
    tag: String,
    bytes: Arc<[u8]>,
    at: Instant,
    seq: u64,
}

struct Space {
    name: String,
    max_bytes: usize,
    ttl: Duration,
    bytes: usize,
    map: HashMap<String, Entry>,
    /// Keys in the order they were put (with the put's `seq`: a key put again leaves a stale item behind).
    order: VecDeque<(u64, String)>,
    seq: u64,
    stats: SharedBytesStats,
}

impl Space {
    fn remove(&mut self, key: &str) {
        if let Some(e) = self.map.remove(key) {
            self.bytes -= e.bytes.len();
        }
    }

    /// Drops the expired values, and the oldest while more than `max_bytes` are kept.
    fn trim(&mut self, now: Instant) {
        while let Some((seq, key)) = self.order.front() {
            let live = self.map.get(key).filter(|e| e.seq == *seq);
            match live {
                Some(e) if self.bytes <= self.max_bytes && now.duration_since(e.at) < self.ttl => break,
                Some(_) => {
                    let key = key.clone();
                    self.remove(&key);
                }
                None => {}
            }
            self.order.pop_front();
        }
        // Stale items of keys put again many times: rebuilt so the queue stays of the order of the map.
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order.retain(|(seq, key)| map.get(key).is_some_and(|e| e.seq == *seq));
        }
    }
}

/// A space's counters and what it holds.
#[napi(object)]
#[derive(Default, Clone)]
pub struct SharedBytesStats {
    /// Values found by `sharedBytesGet` (within their time).
    pub hits: f64,
    /// Keys asked for and not there (or expired).
    pub misses: f64,
    /// Values put.
    pub puts: f64,
    /// Values kept now, and their bytes.
    pub entries: f64,
    pub bytes: f64,
}

/// A value found: the tag it was put with (an identity the caller checks) and a copy of its bytes.
#[napi(object)]
pub struct SharedBytesValue {
    pub tag: String,
    pub bytes: Buffer,
}

fn spaces() -> MutexGuard<'static, Vec<Space>> {
    static SPACES: OnceLock<Mutex<Vec<Space>>> = OnceLock::new();
    // A panic while holding the lock leaves a space consistent enough to keep using (values are whole).
    SPACES.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|p| p.into_inner())
}

fn space(list: &mut [Space], id: u32) -> Result<&mut Space> {
    list.get_mut(id as usize).ok_or_else(|| invalid(format!("sharedBytes: no space {id}")))
}

/// The space named `name` (made with these bounds the first time; later askers get it as it is): its id.
#[napi]
pub fn shared_bytes_space(name: String, max_bytes: f64, ttl_ms: f64) -> Result<u32> {
    if !(max_bytes.is_finite() && max_bytes >= 0.0 && ttl_ms.is_finite() && ttl_ms >= 0.0) || name.is_empty() {
        return Err(invalid("sharedBytesSpace: a name, and bounds of 0 or more"));
    }
    let mut list = spaces();
    if let Some(i) = list.iter().position(|s| s.name == name) {
        return Ok(i as u32);
    }
    if list.len() >= MAX_SPACES {
        return Err(invalid("sharedBytesSpace: too many spaces"));
    }
    list.push(Space {
        name,
        max_bytes: max_bytes as usize,
        ttl: Duration::from_millis(ttl_ms as u64),
        bytes: 0,
        map: HashMap::new(),
        order: VecDeque::new(),
        seq: 0,
        stats: SharedBytesStats::default(),
    });
    Ok((list.len() - 1) as u32)
}

/// Puts `pieces` (joined) under `key` with `tag`, replacing what was there. False (nothing kept) when the value
/// is over a quarter of the space or the key is too long.
#[napi]
pub fn shared_bytes_put(id: u32, key: String, tag: String, pieces: Vec<Buffer>) -> Result<bool> {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    // Copied before the lock: the other threads wait only for the map.
    let mut bytes = Vec::new();
    let max = spaces().get(id as usize).map(|s| s.max_bytes / 4);
    let Some(max) = max else {
        return Err(invalid(format!("sharedBytes: no space {id}")));
    };
    if len > max || key.len() > MAX_KEY || tag.len() > MAX_KEY {
        return Ok(false);
    }
    bytes.reserve_exact(len);
    for p in &pieces {
        bytes.extend_from_slice(p);
    }
    let now = Instant::now();
    let mut list = spaces();
    let s = space(&mut list, id)?;
    s.remove(&key);
    s.seq += 1;
    let seq = s.seq;
    s.bytes += len;
    s.order.push_back((seq, key.clone()));
    s.map.insert(key, Entry { tag, bytes: bytes.into(), at: now, seq });
    s.stats.puts += 1.0;
    s.trim(now);
    Ok(true)
}

/// A copy of the value under `key` with its tag, or null when there is none within its time.
#[napi]
pub fn shared_bytes_get(id: u32, key: String) -> Result<Option<SharedBytesValue>> {
    let now = Instant::now();
    let found = {
        let mut list = spaces();
        let s = space(&mut list, id)?;
        s.trim(now);
        // The value's Arc, not its bytes: copied out after the lock.
        let got = s.map.get(&key).map(|e| (e.tag.clone(), Arc::clone(&e.bytes)));
        if got.is_some() {
            s.stats.hits += 1.0;
        } else {
            s.stats.misses += 1.0;
        }
        got
    };
    Ok(found.map(|(tag, bytes)| SharedBytesValue { tag, bytes: bytes.to_vec().into() }))
}

/// Forgets the value under `key` (the file it copies is gone or changed).
#[napi]
pub fn shared_bytes_delete(id: u32, key: String) -> Result<()> {
    let mut list = spaces();
    space(&mut list, id)?.remove(&key);
    Ok(())
}

#[napi]
pub fn shared_bytes_stats(id: u32) -> Result<SharedBytesStats> {
    let mut list = spaces();
    let s = space(&mut list, id)?;
    s.trim(Instant::now());
    Ok(SharedBytesStats { entries: s.map.len() as f64, bytes: s.bytes as f64, ..s.stats.clone() })
}
