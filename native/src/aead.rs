//! The package format of encrypted object data: the plaintext of one stream (an object, or one part of a
//! multipart object) is cut into packages of `PACKAGE_SIZE` bytes (the last may be shorter; an empty
//! stream is one empty package), and each is sealed with an AEAD (AES-256-GCM, or ChaCha20-Poly1305 on
//! CPUs without AES instructions) into the package's ciphertext followed by its 16-byte tag.
//!
//! Every stream has its own key (the caller draws or derives it). The package's sequence number is the
//! nonce, and the associated data binds the stream's identity (caller-given bytes: object id, part
//! number), the sequence number and a final flag on the last package. So a package moved to another
//! position, another part or another object fails to open, and a stream cut after a package boundary is
//! refused because its last package does not carry the final flag.
//!
//! The AEADs are ring's (BoringSSL's assembly: AES-GCM with VAES/AVX2 or AES-NI + CLMUL chosen at run time,
//! ChaCha20-Poly1305 with SIMD), about five times RustCrypto's `aes-gcm` on this format (bench/kernels).
use napi::bindgen_prelude::*;
use napi_derive::napi;
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM, CHACHA20_POLY1305};

use crate::erasure::check_disjoint;
use crate::pieces::Pieces;

/// Plaintext bytes per package.
pub const PACKAGE_SIZE: usize = 64 * 1024;
/// Bytes of the authentication tag after each package's ciphertext.
pub const TAG_SIZE: usize = 16;
/// Bytes of a full sealed package.
pub const SEALED_PACKAGE: usize = PACKAGE_SIZE + TAG_SIZE;
const KEY_SIZE: usize = 32;
/// Longest stream identity accepted (it is part of every package's associated data).
const MAX_IDENTITY: usize = 64;

/// The AEAD of a stream.
#[napi(string_enum)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cipher {
    #[napi(value = "AES-256-GCM")]
    Aes256Gcm,
    #[napi(value = "CHACHA20-POLY1305")]
    ChaCha20Poly1305,
}

/// A stream's key, ready for either AEAD (12-byte nonces, 16-byte tags).
struct Engine(LessSafeKey);

impl Engine {
    fn new(cipher: Cipher, key: &[u8]) -> Result<Engine> {
        if key.len() != KEY_SIZE {
            return Err(Error::from_reason(format!("an AEAD key has {KEY_SIZE} bytes, not {}", key.len())));
        }
        let algorithm = match cipher {
            Cipher::Aes256Gcm => &AES_256_GCM,
            Cipher::ChaCha20Poly1305 => &CHACHA20_POLY1305,
        };
        Ok(Engine(LessSafeKey::new(UnboundKey::new(algorithm, key).expect("32-byte key"))))
    }

    // Each (key, sequence number) is used once: a stream's key is its own, and its packages count up.
    fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> Tag {
        let nonce = Nonce::assume_unique_for_key(nonce);
        self.0
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
            .expect("package sizes are far below the AEAD limits")
    }

    fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        self.open_shifted(nonce, aad, buf, 0, tag)
    }

    /// Opens the ciphertext `buf[shift..]` into `buf[..buf.len() - shift]` in one pass (ring's AES-GCM and
    /// ChaCha20-Poly1305 read each block before writing it, `shift` bytes to the left). Zeroed on failure.
    fn open_shifted(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8], shift: usize, tag: &[u8]) -> bool {
        let Ok(tag) = Tag::try_from(tag) else { return false };
        let nonce = Nonce::assume_unique_for_key(nonce);
        self.0.open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf, shift..).is_ok()
    }
}

/// Number of packages of a stream of `plain` bytes (an empty stream has one, empty).
pub fn package_count(plain: u64) -> u64 {
    plain.div_ceil(PACKAGE_SIZE as u64).max(1)
}

/// Sealed length of a stream of `plain` plaintext bytes.
pub fn sealed_length(plain: u64) -> u64 {
    plain + package_count(plain) * TAG_SIZE as u64
}

/// Plaintext length of a sealed stream of `sealed` bytes; None when no plaintext length seals to it.
pub fn plain_length(sealed: u64) -> Option<u64> {
    let packages = sealed.div_ceil(SEALED_PACKAGE as u64).max(1);
    let plain = sealed.checked_sub(packages * TAG_SIZE as u64)?;
    (sealed_length(plain) == sealed).then_some(plain)
}

struct Packages<'a> {
    engine: Engine,
    identity: &'a [u8],
    aad: [u8; MAX_IDENTITY + 9],
}

impl<'a> Packages<'a> {
    fn new(cipher: Cipher, key: &[u8], identity: &'a [u8]) -> Result<Self> {
        if identity.len() > MAX_IDENTITY {
            return Err(Error::from_reason(format!("a stream identity has at most {MAX_IDENTITY} bytes")));
        }
        let mut aad = [0u8; MAX_IDENTITY + 9];
        aad[..identity.len()].copy_from_slice(identity);
        Ok(Packages { engine: Engine::new(cipher, key)?, identity, aad })
    }

    /// Nonce and associated data of package `seq`: identity || seq (u64 BE) || final (1 byte).
    fn frame(&mut self, seq: u64, last: bool) -> ([u8; 12], usize) {
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&seq.to_be_bytes());
        let n = self.identity.len();
        self.aad[n..n + 8].copy_from_slice(&seq.to_be_bytes());
        self.aad[n + 8] = last as u8;
        (nonce, n + 9)
    }
}

/// Seals `plain` (the stream's next bytes, given as pieces back to back: the body as the socket delivered it)
/// as packages `first_seq, first_seq + 1, ...` into `out`; returns the bytes written. Unless `last` is set,
/// `plain` must be whole packages; with `last`, its final package (short, or empty when `plain` is empty)
/// carries the final flag. Each package's plaintext is copied once, from the pieces into `out`, and sealed
/// there in place.
pub fn seal(
    cipher: Cipher,
    key: &[u8],
    identity: &[u8],
    first_seq: u64,
    plain: &[&[u8]],
    last: bool,
    out: &mut [u8],
) -> Result<usize> {
    let plain_len: usize = plain.iter().map(|p| p.len()).sum();
    if !last && !plain_len.is_multiple_of(PACKAGE_SIZE) {
        return Err(Error::from_reason("only the last seal of a stream may end in a short package"));
    }
    let count = if last { package_count(plain_len as u64) as usize } else { plain_len / PACKAGE_SIZE };
    let need = plain_len + count * TAG_SIZE;
    if out.len() < need {
        return Err(Error::from_reason(format!("out has {} bytes, {need} needed", out.len())));
    }
    check_disjoint(out, plain.iter().copied(), "aeadSeal")?;
    let mut p = Packages::new(cipher, key, identity)?;
    let mut src = Pieces::new(plain);
    for i in 0..count {
        let len = (plain_len - i * PACKAGE_SIZE).min(PACKAGE_SIZE);
        let at = i * SEALED_PACKAGE;
        let is_last = last && i + 1 == count;
        let (nonce, aad_len) = p.frame(first_seq + i as u64, is_last);
        let (body, rest) = out[at..].split_at_mut(len);
        src.read_into(body);
        let tag = p.engine.seal(nonce, &p.aad[..aad_len], body);
        rest[..TAG_SIZE].copy_from_slice(tag.as_ref());
    }
    Ok(need)
}

/// Packages and plaintext bytes of `sealed_len` sealed bytes: whole packages, but for a short (not empty)
/// last one when the stream ends there.
fn packages_of(sealed_len: usize, ends_stream: bool) -> Result<(usize, usize)> {
    let count = sealed_len.div_ceil(SEALED_PACKAGE);
    let tail = sealed_len - count.saturating_sub(1) * SEALED_PACKAGE;
    if count == 0 || tail < TAG_SIZE || (!ends_stream && tail != SEALED_PACKAGE) {
        return Err(Error::from_reason("sealed data is not whole packages"));
    }
    Ok((count, sealed_len - count * TAG_SIZE))
}

/// Opens `sealed` (packages `first_seq, ...`, all full but perhaps the last; given as pieces back to back,
/// cut anywhere: storage's reads) into `out`; returns the plaintext bytes written. `ends_stream`: the last
/// package given must be the stream's final one (and the others must not be). Fails, writing nothing
/// usable, when any package does not authenticate.
pub fn open(
    cipher: Cipher,
    key: &[u8],
    identity: &[u8],
    first_seq: u64,
    sealed: &[&[u8]],
    ends_stream: bool,
    out: &mut [u8],
) -> Result<usize> {
    let sealed_len: usize = sealed.iter().map(|p| p.len()).sum();
    let (count, plain) = packages_of(sealed_len, ends_stream)?;
    if out.len() < plain {
        return Err(Error::from_reason(format!("out has {} bytes, {plain} needed", out.len())));
    }
    check_disjoint(out, sealed.iter().copied(), "aeadOpen")?;
    let mut p = Packages::new(cipher, key, identity)?;
    let mut src = Pieces::new(sealed);
    let mut tag = [0u8; TAG_SIZE];
    for i in 0..count {
        let len = (sealed_len - i * SEALED_PACKAGE).min(SEALED_PACKAGE) - TAG_SIZE;
        let (nonce, aad_len) = p.frame(first_seq + i as u64, ends_stream && i + 1 == count);
        let body = &mut out[i * PACKAGE_SIZE..i * PACKAGE_SIZE + len];
        src.read_into(body);
        src.read_into(&mut tag);
        if !p.engine.open(nonce, &p.aad[..aad_len], body, &tag) {
            out[..plain].fill(0);
            return Err(Error::new(
                Status::GenericFailure,
                format!("package {} failed authentication", first_seq + i as u64),
            ));
        }
    }
    Ok(plain)
}

/// Where the bytes `[lo, hi)` of pieces taken back to back (`starts[k]`: where piece `k` begins, with the
/// total at the end) lie: each piece's part of them, as (piece, offset in the piece, offset in the range, len).
fn spans(starts: &[usize], lo: usize, hi: usize) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
    (0..starts.len() - 1).filter_map(move |k| {
        let (a, z) = (starts[k].max(lo), starts[k + 1].min(hi));
        (a < z).then(|| (k, a - starts[k], a - lo, z - a))
    })
}

/// Opens `pieces` (sealed packages `first_seq, ...` as `open` takes them: back to back, cut anywhere) where
/// they lie, the plaintext moved to the front of the same bytes: with the pieces taken as one span, package
/// `i`'s plaintext ends up at `i * PACKAGE_SIZE`, so the plaintext is the first `plain` bytes of the pieces
/// back to back (returned; the tags' room is left at the end). A package whose ciphertext and plaintext place
/// lie in one piece is opened there in one pass (the AEAD writes each block `16 * i` bytes to the left of
/// where it read it); only one that straddles a piece boundary is copied, into `scratch` (at least one sealed
/// package), opened there and copied to its place. Storage's reads are opened without a copy of each
/// package into another buffer. Fails, the plaintext written so far zeroed, when a package does not
/// authenticate; the pieces' sealed bytes are lost then.
pub fn open_in_place(
    cipher: Cipher,
    key: &[u8],
    identity: &[u8],
    first_seq: u64,
    pieces: &mut [&mut [u8]],
    ends_stream: bool,
    scratch: &mut [u8],
) -> Result<usize> {
    let mut starts = Vec::with_capacity(pieces.len() + 1);
    let mut total = 0;
    for p in pieces.iter() {
        starts.push(total);
        total += p.len();
    }
    starts.push(total);
    let (count, plain) = packages_of(total, ends_stream)?;
    if scratch.len() < SEALED_PACKAGE {
        return Err(Error::from_reason(format!("scratch has {} bytes, {SEALED_PACKAGE} needed", scratch.len())));
    }
    let mut p = Packages::new(cipher, key, identity)?;
    let mut k = 0; // the piece holding the current package's plaintext place
    for i in 0..count {
        let len = (total - i * SEALED_PACKAGE).min(SEALED_PACKAGE) - TAG_SIZE;
        let (dst, src) = (i * PACKAGE_SIZE, i * SEALED_PACKAGE);
        let end = src + len + TAG_SIZE;
        let (nonce, aad_len) = p.frame(first_seq + i as u64, ends_stream && i + 1 == count);
        let aad = &p.aad[..aad_len];
        while starts[k + 1] <= dst && k + 2 < starts.len() {
            k += 1;
        }
        let ok = if end <= starts[k + 1] {
            let piece = &mut pieces[k][dst - starts[k]..end - starts[k]];
            let (body, tag) = piece.split_at_mut(src + len - dst);
            p.engine.open_shifted(nonce, aad, body, src - dst, tag)
        } else {
            let sealed = &mut scratch[..len + TAG_SIZE];
            for (j, at, off, n) in spans(&starts, src, end) {
                sealed[off..off + n].copy_from_slice(&pieces[j][at..at + n]);
            }
            let (body, tag) = sealed.split_at_mut(len);
            let ok = p.engine.open(nonce, aad, body, tag);
            if ok {
                for (j, at, off, n) in spans(&starts, dst, dst + len) {
                    pieces[j][at..at + n].copy_from_slice(&body[off..off + n]);
                }
            }
            ok
        };
        if !ok {
            for (j, at, _, n) in spans(&starts, 0, dst + len) {
                pieces[j][at..at + n].fill(0);
            }
            scratch.fill(0);
            return Err(Error::new(
                Status::GenericFailure,
                format!("package {} failed authentication", first_seq + i as u64),
            ));
        }
    }
    Ok(plain)
}

/// Fails unless the byte ranges of `bufs` are pairwise disjoint (checked before any is borrowed mutably).
fn check_all_disjoint(bufs: &[&[u8]], what: &str) -> Result<()> {
    let mut ranges: Vec<_> = bufs.iter().filter(|b| !b.is_empty()).map(|b| b.as_ptr_range()).collect();
    ranges.sort_by_key(|r| r.start);
    if ranges.windows(2).any(|w| w[1].start < w[0].end) {
        return Err(Error::from_reason(format!("{what}: the buffers overlap")));
    }
    Ok(())
}

/// `open_in_place` over JS Buffers: the pieces and the scratch must not overlap.
fn open_buffers_in_place(
    cipher: Cipher,
    key: &[u8],
    identity: &[u8],
    first_seq: u64,
    pieces: &mut [Buffer],
    ends_stream: bool,
    scratch: &mut [u8],
) -> Result<usize> {
    let mut all: Vec<&[u8]> = pieces.iter().map(|b| b.as_ref()).collect();
    all.push(scratch);
    check_all_disjoint(&all, "aeadOpenInPlace")?;
    drop(all);
    let mut views: Vec<&mut [u8]> = pieces.iter_mut().map(|b| b.as_mut()).collect();
    open_in_place(cipher, key, identity, first_seq, &mut views, ends_stream, scratch)
}

/// The 12-byte nonce of a single message, or an error.
fn message_nonce(nonce: &[u8]) -> Result<[u8; 12]> {
    nonce.try_into().map_err(|_| Error::from_reason(format!("an AEAD nonce has 12 bytes, not {}", nonce.len())))
}

/// Seals one message (not a stream of packages: a small secret, such as a data key under its key-encryption
/// key) with a caller-chosen `nonce` (12 bytes, never reused with `key`) and associated data `aad` into `out`
/// as ciphertext || 16-byte tag; returns the bytes written. The same bytes as any AES-256-GCM or
/// ChaCha20-Poly1305 of that nonce and aad (node:crypto's, OpenSSL's), at a fifth of node:crypto's cost per
/// call (bench/kernels).
#[napi]
pub fn aead_seal_message(
    cipher: Cipher,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plain: &[u8],
    mut out: BufferSlice,
) -> Result<u32> {
    let engine = Engine::new(cipher, key)?;
    let nonce = message_nonce(nonce)?;
    let need = plain.len() + TAG_SIZE;
    if out.len() < need {
        return Err(Error::from_reason(format!("out has {} bytes, {need} needed", out.len())));
    }
    check_disjoint(&out, [plain], "aeadSealMessage")?;
    let (body, rest) = out[..need].split_at_mut(plain.len());
    body.copy_from_slice(plain);
    let tag = engine.seal(nonce, aad, body);
    rest.copy_from_slice(tag.as_ref());
    Ok(need as u32)
}

/// Opens one message sealed as `aeadSealMessage` seals (`sealed`: ciphertext || 16-byte tag) into `out`;
/// false, with `out` zeroed, when it does not authenticate (another key, nonce, aad or altered bytes).
#[napi]
pub fn aead_open_message(
    cipher: Cipher,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
    mut out: BufferSlice,
) -> Result<bool> {
    let engine = Engine::new(cipher, key)?;
    let nonce = message_nonce(nonce)?;
    let Some(plain) = sealed.len().checked_sub(TAG_SIZE) else { return Ok(false) };
    if out.len() < plain {
        return Err(Error::from_reason(format!("out has {} bytes, {plain} needed", out.len())));
    }
    check_disjoint(&out, [sealed], "aeadOpenMessage")?;
    let body = &mut out[..plain];
    body.copy_from_slice(&sealed[..plain]);
    let ok = engine.open(nonce, aad, body, &sealed[plain..]);
    if !ok {
        body.fill(0);
    }
    Ok(ok)
}

/// Sealed length of a stream of `plain` plaintext bytes (`plain` + 16 bytes per 64 KiB package).
#[napi]
pub fn aead_sealed_length(plain: f64) -> f64 {
    sealed_length(plain as u64) as f64
}

/// Plaintext length of a sealed stream of `sealed` bytes, or -1 when none seals to that length.
#[napi]
pub fn aead_plain_length(sealed: f64) -> f64 {
    plain_length(sealed as u64).map_or(-1.0, |n| n as f64)
}

/// Whether this CPU has the AES and carry-less multiply instructions that make AES-256-GCM fast.
#[napi]
pub fn aes_hardware() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::is_x86_feature_detected!("aes") && std::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes") && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

sync_and_async! {
    /// Seals `plain` as packages from `firstSeq` into `out` (see `seal`); returns the bytes written.
    fn aead_seal / aead_seal_async via AeadSealTask (
        cipher: Cipher, key: &[u8] | Buffer, identity: &[u8] | Buffer, first_seq: u32,
        plain: Vec<&[u8]> | Vec<Buffer>, last: bool, out: BufferSlice | Buffer,
    ) -> u32 {
        let cipher: Cipher = cipher;
        let seq: u64 = first_seq as u64;
        let last: bool = last;
        run {
            let views: Vec<&[u8]> = plain.iter().map(|p| p.as_ref()).collect();
            seal(cipher, key, identity, seq, &views, last, out)? as u32
        }
    }
}

sync_and_async! {
    /// Opens sealed packages from `firstSeq` into `out` (see `open`); returns the plaintext bytes written.
    fn aead_open / aead_open_async via AeadOpenTask (
        cipher: Cipher, key: &[u8] | Buffer, identity: &[u8] | Buffer, first_seq: u32,
        sealed: Vec<&[u8]> | Vec<Buffer>, ends_stream: bool, out: BufferSlice | Buffer,
    ) -> u32 {
        let cipher: Cipher = cipher;
        let seq: u64 = first_seq as u64;
        let ends: bool = ends_stream;
        run {
            let views: Vec<&[u8]> = sealed.iter().map(|p| p.as_ref()).collect();
            open(cipher, key, identity, seq, &views, ends, out)? as u32
        }
    }
}

sync_and_async! {
    /// Opens sealed packages from `firstSeq` where they lie, the plaintext moved to the front of the pieces
    /// taken back to back (see `open_in_place`); returns the plaintext bytes.
    fn aead_open_in_place / aead_open_in_place_async via AeadOpenInPlaceTask (
        cipher: Cipher, key: &[u8] | Buffer, identity: &[u8] | Buffer, first_seq: u32,
        pieces: Vec<Buffer> | Vec<Buffer>, ends_stream: bool, scratch: BufferSlice | Buffer,
    ) -> u32 {
        let cipher: Cipher = cipher;
        let seq: u64 = first_seq as u64;
        let ends: bool = ends_stream;
        run {
            open_buffers_in_place(cipher, key, identity, seq, pieces, ends, scratch)? as u32
        }
    }
}
