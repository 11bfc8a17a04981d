//! The S3 checksum family and the ETag digest: CRC32 (IEEE), CRC32C, CRC64NVME, MD5, SHA-1, SHA-256.
//!
//! Digests are returned as the bytes S3 base64-encodes in `x-amz-checksum-*` headers: big-endian
//! for the CRCs, the usual byte order for MD5/SHA.
use crc_fast::CrcAlgorithm;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::md5::Md5;

use crate::shared::{invalid, Claim, Shared};

/// A checksum algorithm, named as in S3's `x-amz-checksum-algorithm` (plus MD5, the ETag digest).
#[napi(string_enum)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[allow(clippy::upper_case_acronyms)]
pub enum ChecksumAlgorithm {
    CRC32,
    CRC32C,
    CRC64NVME,
    SHA1,
    SHA256,
    MD5,
}

impl ChecksumAlgorithm {
    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            Self::CRC32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            Self::CRC32C => Some(CrcAlgorithm::Crc32Iscsi),
            Self::CRC64NVME => Some(CrcAlgorithm::Crc64Nvme),
            _ => None,
        }
    }

    /// Length of the digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::CRC32 | Self::CRC32C => 4,
            Self::CRC64NVME => 8,
            Self::MD5 => 16,
            Self::SHA1 => 20,
            Self::SHA256 => 32,
        }
    }
}

/// A CRC value as S3 writes it: big-endian, 4 or 8 bytes.
fn crc_bytes(value: u64, len: usize) -> Vec<u8> {
    value.to_be_bytes()[8 - len..].to_vec()
}

/// Running state of one algorithm.
#[derive(Clone)]
pub enum HashState {
    Crc(crc_fast::Digest, usize),
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl HashState {
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        match (algorithm.crc(), algorithm) {
            (Some(crc), _) => HashState::Crc(crc_fast::Digest::new(crc), algorithm.digest_len()),
            (None, ChecksumAlgorithm::SHA1) => HashState::Sha1(Sha1::new()),
            (None, ChecksumAlgorithm::SHA256) => HashState::Sha256(Sha256::new()),
            (None, _) => HashState::Md5(Md5::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            HashState::Crc(d, _) => d.update(data),
            HashState::Md5(h) => h.update(data),
            HashState::Sha1(h) => h.update(data),
            HashState::Sha256(h) => h.update(data),
        }
    }

    /// The digest of everything so far; the state stays usable.
    pub fn digest(&self) -> Vec<u8> {
        match self {
            HashState::Crc(d, len) => crc_bytes(d.finalize(), *len),
            HashState::Md5(h) => h.digest().to_vec(),
            HashState::Sha1(h) => h.clone().finalize().to_vec(),
            HashState::Sha256(h) => h.clone().finalize().to_vec(),
        }
    }
}

/// One-shot digest of `data`.
pub fn digest_of(algorithm: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    match (algorithm.crc(), algorithm) {
        (Some(crc), _) => crc_bytes(crc_fast::checksum(crc, data), algorithm.digest_len()),
        (None, ChecksumAlgorithm::SHA1) => Sha1::digest(data).to_vec(),
        (None, ChecksumAlgorithm::SHA256) => Sha256::digest(data).to_vec(),
        (None, _) => Md5::digest_of(data).to_vec(),
    }
}

/// A small digest is cheaper to hand over as a V8-owned copy than as an external buffer.
pub fn digest_copy<'env>(env: &'env Env, digest: Vec<u8>) -> Result<BufferSlice<'env>> {
    BufferSlice::copy_from(env, digest)
}

sync_and_async! {
    /// Checksum (digest bytes) of `data`.
    fn checksum / checksum_async via ChecksumTask (algorithm: ChecksumAlgorithm, data: &[u8] | Buffer)
        -> Vec<u8> as Buffer, sync as BufferSlice<'env> = digest_copy
    {
        let algorithm: ChecksumAlgorithm = algorithm;
        run digest_of(algorithm, data)
    }
}

/// CRC32 (IEEE 802.3, as zlib and S3's CRC32) of `data`.
#[napi]
pub fn crc32(data: &[u8]) -> u32 {
    crc_fast::checksum(CrcAlgorithm::Crc32IsoHdlc, data) as u32
}

/// CRC32C (Castagnoli) of `data`.
#[napi(js_name = "crc32c")]
pub fn crc32c(data: &[u8]) -> u32 {
    crc_fast::checksum(CrcAlgorithm::Crc32Iscsi, data) as u32
}

/// CRC64NVME of `data` (a bigint: the value needs 64 bits).
#[napi(js_name = "crc64nvme")]
pub fn crc64nvme(data: &[u8]) -> BigInt {
    BigInt::from(crc_fast::checksum(CrcAlgorithm::Crc64Nvme, data))
}

fn crc_value(bytes: &[u8], len: usize, what: &str) -> Result<u64> {
    if bytes.len() != len {
        return Err(invalid(format!("{what}: expected {len} bytes, got {}", bytes.len())));
    }
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// The CRC of `A || B` from crc(A), crc(B) and the length of B, as digest bytes. For S3's
/// FULL_OBJECT multipart checksums: the object's CRC from its parts' CRCs. CRC algorithms only.
#[napi]
pub fn checksum_combine(
    algorithm: ChecksumAlgorithm,
    first: &[u8],
    second: &[u8],
    second_length: i64,
) -> Result<Buffer> {
    let crc = algorithm.crc().ok_or_else(|| invalid(format!("checksumCombine: {algorithm:?} is not a CRC")))?;
    if second_length < 0 {
        return Err(invalid("checksumCombine: secondLength must not be negative"));
    }
    let len = algorithm.digest_len();
    let a = crc_value(first, len, "checksumCombine first")?;
    let b = crc_value(second, len, "checksumCombine second")?;
    Ok(crc_bytes(crc_fast::checksum_combine(crc, a, b, second_length as u64), len).into())
}

pool_task! {
    /// Off-thread `Hasher.update`.
    HasherUpdateTask { claim: Claim<HashState>, data: Buffer } -> () => |t| {
        t.claim.with(|s| s.update(&t.data));
        Ok(())
    }
}

/// A streaming checksum: `update` in order, `digest` at any point (it does not end the stream).
#[napi]
pub struct Hasher {
    shared: Shared<HashState>,
    algorithm: ChecksumAlgorithm,
}

#[napi]
impl Hasher {
    #[napi(constructor)]
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        Hasher { shared: Shared::new(HashState::new(algorithm)), algorithm }
    }

    /// The algorithm this hasher computes.
    #[napi(getter)]
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// Adds `data` (sync, for small chunks).
    #[napi]
    pub fn update(&self, data: &[u8]) -> Result<()> {
        self.shared.claim("Hasher")?.with(|s| s.update(data));
        Ok(())
    }

    /// Adds `data` on the libuv thread pool; await it before the next call on this hasher.
    #[napi]
    pub fn update_async(&self, data: Buffer) -> Result<AsyncTask<HasherUpdateTask>> {
        let claim = self.shared.claim("Hasher")?;
        Ok(AsyncTask::new(HasherUpdateTask { claim, data }))
    }

    /// Digest of everything added so far.
    #[napi]
    pub fn digest(&self) -> Result<Buffer> {
        Ok(self.shared.claim("Hasher")?.with(|s| s.digest()).into())
    }

    /// Starts over, as if newly constructed.
    #[napi]
    pub fn reset(&self) -> Result<()> {
        let algorithm = self.algorithm;
        self.shared.claim("Hasher")?.with(|s| *s = HashState::new(algorithm));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ChecksumAlgorithm; 6] = [
        ChecksumAlgorithm::CRC32,
        ChecksumAlgorithm::CRC32C,
        ChecksumAlgorithm::CRC64NVME,
        ChecksumAlgorithm::SHA1,
        ChecksumAlgorithm::SHA256,
        ChecksumAlgorithm::MD5,
    ];

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        // CRC catalogue check values (input "123456789"), FIPS 180-2 and RFC 1321 vectors.
        use ChecksumAlgorithm::*;
        let cases: [(ChecksumAlgorithm, &str, &str); 9] = [
            (CRC32, "123456789", "cbf43926"),
            (CRC32C, "123456789", "e3069283"),
            (CRC64NVME, "123456789", "ae8b14860a799888"),
            (CRC32, "", "00000000"),
            (CRC64NVME, "", "0000000000000000"),
            (MD5, "abc", "900150983cd24fb0d6963f7d28e17f72"),
            (SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (MD5, "", "d41d8cd98f00b204e9800998ecf8427e"),
        ];
        for (algorithm, input, want) in cases {
            assert_eq!(hex(&digest_of(algorithm, input.as_bytes())), want, "{algorithm:?} of {input:?}");
            assert_eq!(algorithm.digest_len() * 2, want.len(), "{algorithm:?}");
        }
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn streaming_state_equals_one_shot_and_digest_does_not_end_it() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for algorithm in ALL {
            let mut state = HashState::new(algorithm);
            state.update(&data[..10]);
            assert_eq!(state.digest(), digest_of(algorithm, &data[..10]), "{algorithm:?}");
            state.update(&data[10..999]);
            state.update(&data[999..]);
            assert_eq!(state.digest(), digest_of(algorithm, &data), "{algorithm:?}");
            assert_eq!(state.digest().len(), algorithm.digest_len(), "{algorithm:?}");
        }
    }

    #[test]
    fn crc_values_are_big_endian_digest_bytes() {
        assert_eq!(crc_bytes(0x0102_0304, 4), [1, 2, 3, 4]);
        assert_eq!(crc_bytes(0x0102_0304_0506_0708, 8), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(crc_value(&[1, 2, 3, 4], 4, "t").expect("4 bytes"), 0x0102_0304);
        assert_eq!(crc_value(&[0xff; 8], 8, "t").expect("8 bytes"), u64::MAX);
        assert!(crc_value(&[1, 2, 3], 4, "t").is_err());
        assert!(crc_value(&[1, 2, 3, 4, 5], 4, "t").is_err());
    }

    #[test]
    fn combine_gives_the_crc_of_the_concatenation() {
        let (a, b) = (b"hello, ".as_slice(), b"world".as_slice());
        let whole = [a, b].concat();
        for algorithm in [ChecksumAlgorithm::CRC32, ChecksumAlgorithm::CRC32C, ChecksumAlgorithm::CRC64NVME] {
            let combined =
                checksum_combine(algorithm, &digest_of(algorithm, a), &digest_of(algorithm, b), b.len() as i64)
                    .expect("a CRC");
            assert_eq!(combined.to_vec(), digest_of(algorithm, &whole), "{algorithm:?}");
            let short = &digest_of(algorithm, a)[1..];
            assert!(checksum_combine(algorithm, short, &digest_of(algorithm, b), 5).is_err());
            assert!(checksum_combine(algorithm, &digest_of(algorithm, a), short, 5).is_err());
            assert!(checksum_combine(algorithm, &digest_of(algorithm, a), &digest_of(algorithm, b), -1).is_err());
        }
        for algorithm in [ChecksumAlgorithm::SHA1, ChecksumAlgorithm::SHA256, ChecksumAlgorithm::MD5] {
            let d = digest_of(algorithm, a);
            assert!(checksum_combine(algorithm, &d, &d, 1).is_err(), "{algorithm:?}");
        }
    }
}
