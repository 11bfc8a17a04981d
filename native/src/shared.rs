//! Small helpers shared by the kernels: shard-list views, argument errors and the state of the
//! streaming classes.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use napi::{Error, Status};

/// Borrowed views of a shard list, as the sync forms take it (`&[u8]`s) or the async ones hold it
/// (`Buffer`s); `None` for a missing shard.
pub fn slices<T: AsRef<[u8]>>(shards: &[Option<T>]) -> Vec<Option<&[u8]>> {
    shards.iter().map(|s| s.as_ref().map(AsRef::as_ref)).collect()
}

/// An `InvalidArg` error (a TypeError-like failure of the caller, not of the kernel).
pub fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

/// The state of a streaming class (a hasher), shared with the async task working on it.
///
/// Streaming updates must apply in call order, so a class admits one call at a time: a second
/// call while an async one is still running fails instead of racing it on the thread pool.
pub struct Shared<S> {
    state: Arc<Mutex<S>>,
    busy: Arc<AtomicBool>,
}

impl<S> Shared<S> {
    pub fn new(state: S) -> Self {
        Shared { state: Arc::new(Mutex::new(state)), busy: Arc::new(AtomicBool::new(false)) }
    }

    /// Claims the state for one call (sync or async); released when the claim is dropped.
    pub fn claim(&self, class: &str) -> napi::Result<Claim<S>> {
        if self.busy.swap(true, Ordering::AcqRel) {
            return Err(Error::new(
                Status::GenericFailure,
                format!("{class}: an async call is still running; await it before the next call"),
            ));
        }
        Ok(Claim { state: self.state.clone(), busy: self.busy.clone() })
    }
}

/// Exclusive use of a `Shared` state for the duration of one call.
pub struct Claim<S> {
    state: Arc<Mutex<S>>,
    busy: Arc<AtomicBool>,
}

impl<S> Claim<S> {
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        // The busy flag already serialises callers, so the lock is never contended; a poisoned
        // lock can only come from a panic in a kernel, and the state is still usable then.
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

impl<S> Drop for Claim<S> {
    fn drop(&mut self) {
        self.busy.store(false, Ordering::Release);
    }
}
