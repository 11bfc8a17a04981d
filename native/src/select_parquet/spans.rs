//! The spans of the object a scan's `next` is handed, in buffers the scan reuses.
//!
//! Each step copies the caller's pieces once (the caller may reuse them when the step settles), a row
//! group's column chunks at a time: megabytes per step. A fresh allocation of that size is fresh memory
//! from the kernel (glibc maps it, or trims it away when freed), so every byte copied in also cost a page
//! fault and the zeroing of its page. The decoder keeps views of a span (`Bytes`) until it is done with
//! the row group; when the last view is dropped, the buffer goes back to the scan's pool and the next
//! group's span is copied into memory already mapped.
use std::ops::Range;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;

/// Buffers kept for reuse by one scan (a step holds one span, a probe's step and the next one two).
const KEPT: usize = 4;

/// The free span buffers of one scan. Buffers still viewed by the decoder come back when their last view
/// is dropped; once the scan is gone they are freed as usual.
#[derive(Default)]
pub struct SpanPool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Buffers allocated rather than reused, for the tests.
    fresh: usize,
}

/// A span's buffer: gives itself back to its pool when the last `Bytes` viewing it is dropped.
struct Pooled {
    buf: Vec<u8>,
    home: Weak<Mutex<Vec<Vec<u8>>>>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(home) = self.home.upgrade() {
            let mut free = home.lock().unwrap_or_else(|p| p.into_inner());
            if free.len() < KEPT {
                free.push(std::mem::take(&mut self.buf));
            }
        }
    }
}

impl SpanPool {
    /// An empty buffer of at least `len` bytes of capacity: the smallest free one that holds it; else the
    /// largest free one, grown (a mapping grows in place, its pages already touched stay); else a new one.
    /// New capacity has an eighth to spare: the next row group is often a little larger than the last.
    fn take(&mut self, len: usize) -> Vec<u8> {
        let reused = {
            let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
            let fitting = (0..free.len()).filter(|&i| free[i].capacity() >= len).min_by_key(|&i| free[i].capacity());
            let best = fitting.or_else(|| (0..free.len()).max_by_key(|&i| free[i].capacity()));
            best.map(|i| free.swap_remove(i))
        };
        let mut b = reused.unwrap_or_default();
        b.clear();
        if b.capacity() < len {
            self.fresh += 1;
            b.reserve_exact(len.saturating_add(len / 8));
        }
        b
    }

    fn wrap(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled { buf, home: Arc::downgrade(&self.free) })
    }

    /// Buffers allocated or grown so far (not reused as they were).
    #[cfg(test)]
    pub fn fresh(&self) -> usize {
        self.fresh
    }
}

/// The pieces handed to `next` (start, end pairs, one buffer each) as spans of the object: pieces that
/// continue one another (the chunks storage read a range in) are joined, in the one copy the scan takes of
/// the caller's bytes, into a buffer of `pool`. A piece whose length is not its range's stays alone (the step
/// refuses it).
pub fn join_pieces(pool: &mut SpanPool, ranges: &[f64], buffers: &[&[u8]]) -> Vec<(Range<u64>, Bytes)> {
    let range = |k: usize| ranges[2 * k] as u64..ranges[2 * k + 1] as u64;
    let fits = |k: usize| {
        let r = range(k);
        r.end >= r.start && buffers[k].len() as u64 == r.end - r.start
    };
    let mut spans = Vec::new();
    let mut k = 0;
    while k < buffers.len() {
        let mut r = range(k);
        let mut j = k + 1;
        while fits(j - 1) && j < buffers.len() && fits(j) && range(j).start == r.end {
            r.end = range(j).end;
            j += 1;
        }
        let mut joined = pool.take(buffers[k..j].iter().map(|b| b.len()).sum());
        for b in &buffers[k..j] {
            joined.extend_from_slice(b);
        }
        spans.push((r, pool.wrap(joined)));
        k = j;
    }
    spans
}
