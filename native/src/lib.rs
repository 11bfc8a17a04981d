//! Cairn's native kernels: Reed-Solomon, HighwayHash, the S3 checksum family.
#![deny(clippy::all)]

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Version of the native crate, for `cairn --version`.
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// CRC32C of a buffer (placeholder until the checksum module lands).
#[napi]
pub fn crc32c(data: Buffer) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, &data) as u32
}
