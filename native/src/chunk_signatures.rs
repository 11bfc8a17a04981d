//! The chunk signatures of a signed aws-chunked body (SigV4 streaming, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`):
//! chunk `i`'s signature is the HMAC-SHA256, with the request's signing key, of
//! `AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<signature of chunk i-1>\n<SHA-256 of "">\n<SHA-256 of chunk i>`,
//! chained from the request's own signature. Verified here a run of chunks at a time: the data's SHA-256s
//! (the bulk of the work; several chunks hashed together when the CPU has SHA extensions, see sha256x.rs)
//! and the HMACs, each compared in constant time with the signature the client sent.
use napi::bindgen_prelude::*;
use napi_derive::napi;
use sha2::{Digest, Sha256};

use crate::sha256x::sha256_many;
use crate::shared::invalid;

/// SHA-256 of the empty string, hex: the fifth line of every chunk's string to sign.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SIGNATURE_HEX: usize = 64;

/// HMAC-SHA256 with a fixed key: the inner and outer states after the padded key, cloned per message.
struct HmacKey {
    inner: Sha256,
    outer: Sha256,
}

impl HmacKey {
    fn new(key: &[u8]) -> Self {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |x: u8| block.map(|b| b ^ x);
        HmacKey { inner: Sha256::new_with_prefix(pad(0x36)), outer: Sha256::new_with_prefix(pad(0x5c)) }
    }

    fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        for p in parts {
            inner.update(p);
        }
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

fn hex_of(bytes: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}

/// Constant-time equality of two byte strings of the same length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Index of the first chunk whose signature does not verify, or -1 when all do.
fn first_bad_chunk(
    pieces: &[&[u8]],
    counts: &[u32],
    signatures: &[u8],
    previous: &[u8],
    key: &[u8],
    prefix: &[u8],
) -> Result<i32> {
    if signatures.len() != counts.len() * SIGNATURE_HEX || previous.len() != SIGNATURE_HEX {
        return Err(invalid("verifyChunkSignatures: 64 hex characters per chunk and for the previous signature"));
    }
    if counts.iter().map(|&c| c as usize).sum::<usize>() != pieces.len() {
        return Err(invalid("verifyChunkSignatures: the piece counts do not add up to the pieces given"));
    }
    let mut chunks: Vec<&[&[u8]]> = Vec::with_capacity(counts.len());
    let mut at = 0;
    for &c in counts {
        chunks.push(&pieces[at..at + c as usize]);
        at += c as usize;
    }
    let digests = sha256_many(&chunks);
    let hmac = HmacKey::new(key);
    let mut before = previous;
    for (i, digest) in digests.iter().enumerate() {
        let claimed = &signatures[i * SIGNATURE_HEX..(i + 1) * SIGNATURE_HEX];
        let expected = hex_of(&hmac.sign(&[prefix, before, b"\n", EMPTY_SHA256.as_bytes(), b"\n", &hex_of(digest)]));
        if !same(&expected, claimed) {
            return Ok(i as i32);
        }
        before = claimed;
    }
    Ok(-1)
}

sync_and_async! {
    /// Verifies a run of aws-chunked chunk signatures. `pieces` hold the chunks' data back to back, chunk `i`
    /// being the next `counts[i]` pieces (a chunk may arrive in several socket reads; an empty chunk has none);
    /// `signatures` the signatures the client sent, 64 hex characters per chunk; `previous` the signature the
    /// first chunk chains from (the request's, or the last chunk of the previous run); `prefix` the first
    /// three lines of the string to sign (`AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n`). Returns the index
    /// of the first chunk whose signature does not match, or -1.
    fn verify_chunk_signatures / verify_chunk_signatures_async via ChunkSignaturesTask (
        pieces: Vec<&[u8]> | Vec<Buffer>,
        counts: Vec<u32> | Vec<u32>,
        signatures: String | String,
        previous: String | String,
        signing_key: &[u8] | Buffer,
        prefix: String | String,
    ) -> i32 {
        run {
            let views: Vec<&[u8]> = pieces.iter().map(|p| p.as_ref()).collect();
            first_bad_chunk(&views, counts, signatures.as_bytes(), previous.as_bytes(), signing_key, prefix.as_bytes())?
        }
    }
}
