//! Cairn's native kernels: Reed-Solomon, HighwayHash, the S3 checksum family, and the fused
//! upload/read passes that combine them so a block of object data is touched once.
//!
//! Every CPU-heavy call has a sync form taking `&[u8]` (for small inputs) and an async form
//! (`AsyncTask` on the libuv pool) that keeps a reference to the caller's `Buffer` instead of
//! copying it. Large outputs are written into a Buffer the caller passes (the TS face allocates one
//! when none is given: V8 then accounts for the memory, and a reused one avoids page faults); small
//! results come back as Buffers made without a copy.
//!
//! Modules: `aead` (the sealed package format of encrypted data), `erasure` (+ `small_decode`,
//! `erasure_api`), `highway`, `checksum` (+ `md5`; `md5x`: several MD5s in SIMD lanes; `md5_streams`: the
//! process-wide batcher of the uploads' MD5s), `frames` (verify/read/heal framed shards), `upload` (the
//! fused upload pass), `chunk_signatures` (+ `sha256x`: SigV4 streaming chunk signatures, several chunks hashed
//! at once), `files` (storage's whole-file reads and writes, one pool task each: no sync form), `shared`
//! (helpers), `shared_bytes` (values every worker thread of the process can find), `pairs` (the macros that write each kernel's sync and async forms from one declaration), `select_parquet`
//! (S3 Select's Parquet scan: arrow-rs decoding, pruning and filtering, fed by the caller's reads), `select_csv`
//! (S3 Select's CSV line filter: lines where WHERE's first conjunct is certainly false never reach JavaScript),
//! `select_json` (the same for JSON LINES), `read_pass` (a batch's shard reads, checks and a select filter in one
//! pool task), `splice` (a body moved from one socket to another inside the kernel:
//! the S3 gateway's GETs), `tls` (HTTPS server connections done by rustls, sans-I/O).
#![deny(clippy::all)]

#[macro_use]
mod pairs;

mod aead;
mod checksum;
mod chunk_signatures;
mod erasure;
mod erasure_api;
mod files;
mod frames;
mod highway;
mod json_scan;
mod md5;
mod md5_streams;
mod md5x;
mod pieces;
mod read_pass;
mod select_csv;
mod select_json;
mod select_parquet;
mod sha256x;
mod shared;
mod shared_bytes;
mod small_decode;
mod splice;
mod tls;
mod upload;

use napi_derive::napi;

/// Version of the native crate, for `cairn --version`.
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Gives the C heap's free pages back to the system: glibc's `malloc_trim(0)`, which goes through every
/// arena (a worker thread's included), not only the top of the main one as `free` does. True when memory
/// was released; elsewhere than glibc nothing is done (false).
#[napi]
pub fn trim_heap() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks glibc's own free lists and releases their pages.
        unsafe { libc::malloc_trim(0) != 0 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
