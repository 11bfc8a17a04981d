//! HighwayHash-64/-128/-256 with a caller-given 32-byte key, byte-identical to
//! github.com/minio/highwayhash: the key is read as four little-endian u64 words, and the digest
//! is written as little-endian u64 words (64-bit: 8 bytes, as `binary.LittleEndian.PutUint64`).
use highway::{HighwayHash, HighwayHasher as Hh, Key};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::checksum::digest_copy;
use crate::shared::invalid;

/// Length of a HighwayHash key and of a HighwayHash-256 digest.
pub const HH_LEN: usize = 32;

/// The key of `bytes` (exactly 32 bytes).
pub fn key_of(bytes: &[u8]) -> Result<Key> {
    if bytes.len() != HH_LEN {
        return Err(invalid(format!("HighwayHash key must be 32 bytes, got {}", bytes.len())));
    }
    let mut words = [0u64; 4];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *w = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
    }
    Ok(Key(words))
}

fn check_bits(bits: u32) -> Result<u32> {
    match bits {
        64 | 128 | 256 => Ok(bits),
        _ => Err(invalid(format!("HighwayHash size must be 64, 128 or 256 bits, got {bits}"))),
    }
}

fn le_words(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Digest of the hasher's input so far, `bits` wide.
fn finish(hasher: Hh, bits: u32) -> Vec<u8> {
    match bits {
        64 => le_words(&[hasher.finalize64()]),
        128 => le_words(&hasher.finalize128()),
        _ => le_words(&hasher.finalize256()),
    }
}

/// HighwayHash-256 of `data` into `out` (32 bytes); used per shard by the fused passes.
pub fn hash256_into(key: Key, data: &[u8], out: &mut [u8]) {
    let mut h = Hh::new(key);
    h.append(data);
    write_hash(h, out);
}

/// The HighwayHash-256 of a hasher's input into `out` (32 bytes, as minio/highwayhash's `Sum`).
pub fn write_hash(hasher: Hh, out: &mut [u8]) {
    for (dst, w) in out.chunks_exact_mut(8).zip(hasher.finalize256()) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
}

sync_and_async! {
    /// HighwayHash of `data` with `key` (32 bytes); `bits` is 64, 128 or 256.
    fn highway_hash / highway_hash_async via HighwayHashTask (data: &[u8] | Buffer, key: &[u8], bits: u32)
        -> Vec<u8> as Buffer, sync as BufferSlice<'env> = digest_copy
    {
        let key: Key = key_of(key)?;
        let bits: u32 = check_bits(bits)?;
        run {
            let mut h = Hh::new(key);
            h.append(data);
            finish(h, bits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// minio/highwayhash's test key: bytes 00 01 .. 1f.
    fn test_key() -> Key {
        key_of(&(0u8..32).collect::<Vec<_>>()).expect("32 bytes")
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The hash of bytes 00 01 .. (n-1), as minio/highwayhash's test vectors define it.
    fn hash(n: u8, bits: u32) -> String {
        let mut h = Hh::new(test_key());
        h.append(&(0..n).collect::<Vec<_>>());
        hex(&finish(h, bits))
    }

    #[test]
    fn known_answers_of_minio_highwayhash() {
        // A selection of testVectors64/128/256 of minio/highwayhash (highwayhash_test.go).
        assert_eq!(hash(0, 64), "536ec222de567a90");
        assert_eq!(hash(33, 64), "fc8131a03cf7902c");
        assert_eq!(hash(0, 128), "c7fe8f9d8f26ed0f6f3e097f765e5633");
        assert_eq!(hash(33, 128), "6cc3c6e0af7816119d84a2e59db558f9");
        assert_eq!(hash(0, 256), "f574c8c22a4844dd1f35c713730146d9ff1487b9ccbeaeb3f41d75453123da41");
        assert_eq!(hash(63, 256), "67eb3a6a26f8b1f5dd1aec4dbe40b083aefb265b63c8e17f9fd7fede47a4a3f4");
    }

    #[test]
    fn hash256_into_and_write_hash_give_the_256_bit_digest() {
        let data: Vec<u8> = (0..63).collect();
        let mut out = [0u8; HH_LEN];
        hash256_into(test_key(), &data, &mut out);
        assert_eq!(hex(&out), hash(63, 256));
        let mut h = Hh::new(test_key());
        h.append(&data);
        let mut again = [0u8; HH_LEN];
        write_hash(h, &mut again);
        assert_eq!(out, again);
    }

    #[test]
    fn keys_are_32_bytes_read_as_little_endian_words() {
        for len in [0, 31, 33, 64] {
            assert!(key_of(&vec![0u8; len]).is_err(), "{len} bytes");
        }
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        bytes[9] = 2;
        bytes[31] = 0x80;
        assert_eq!(key_of(&bytes).expect("32 bytes").0, [1, 0x200, 0, 0x8000_0000_0000_0000]);
    }

    #[test]
    fn sizes_are_64_128_or_256_bits() {
        for bits in [64, 128, 256] {
            assert_eq!(check_bits(bits).expect("a size"), bits);
        }
        for bits in [0, 32, 63, 65, 255, 512] {
            assert!(check_bits(bits).is_err(), "{bits}");
        }
    }
}
