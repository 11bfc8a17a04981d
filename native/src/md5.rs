//! MD5 (RFC 1321), the ETag digest, written for the shortest dependency chain per step: MD5 is
//! latency-bound, and the fused upload pass runs at its speed. Every step adds the message word and
//! the constant to `a` before the round function's input `b` is ready, and in G the two disjoint
//! terms are added so that `c & !d` enters early too (shortcuts described in
//! github.com/animetosho/md5-optimisation). About 30% faster here than the md-5 crate's assembly,
//! and a little faster than OpenSSL's; checked against node:crypto in the tests.
#[rustfmt::skip] // eight constants a line, as in RFC 1321
pub(crate) const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// Hides the N values from the optimiser in one block, so that `a + m + k` is computed off the critical path
/// (LLVM would otherwise move the constant add after the round function, one more cycle per step) and so that
/// N streams' steps stay interleaved (LLVM would otherwise emit one stream's block after the other's, too far
/// apart for the core's reorder window to overlap them).
#[inline(always)]
fn opaque<const N: usize>(x: &mut [u32; N]) {
    macro_rules! hide {
        ($($r:literal => $v:expr),+) => {{
            // SAFETY: an empty asm block (a comment) that only claims to modify the registers it is given.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                core::arch::asm!(concat!("/*", $(" {", $r, ":e}"),+, " */"), $(inout(reg) $v),+,
                    options(pure, nomem, nostack, preserves_flags))
            };
            #[cfg(target_arch = "aarch64")]
            unsafe {
                core::arch::asm!(concat!("/*", $(" {", $r, ":w}"),+, " */"), $(inout(reg) $v),+,
                    options(pure, nomem, nostack, preserves_flags))
            };
        }};
    }
    match x.as_mut_slice() {
        [a] => hide!(0 => *a),
        [a, b] => hide!(0 => *a, 1 => *b),
        [a, b, c] => hide!(0 => *a, 1 => *b, 2 => *c),
        [a, b, c, d] => hide!(0 => *a, 1 => *b, 2 => *c, 3 => *d),
        _ => unreachable!("compress_n takes one to four streams"),
    }
}

/// One block of one stream.
#[inline(always)]
pub(crate) fn compress(state: &mut [u32; 4], block: &[u8]) {
    let block: &[u8; 64] = block.try_into().expect("a 64-byte block");
    compress_n::<1>([state], [block]);
}

/// One block of each of N independent streams, their steps interleaved in one instruction stream: one
/// stream's steps are a chain (each needs the one before), so a core that issues four ALU operations a
/// cycle sits mostly idle on one; two or three chains side by side fill it, for little more time than one
/// (md5x.rs picks this for two or three uploads, the AVX2 lanes for more).
#[inline(always)]
#[rustfmt::skip] // four steps a round on two lines each, as in RFC 1321
pub(crate) fn compress_n<const N: usize>(states: [&mut [u32; 4]; N], blocks: [&[u8; 64]; N]) {
    let mut m = [[0u32; 16]; N];
    for (mj, block) in m.iter_mut().zip(blocks) {
        for (w, c) in mj.iter_mut().zip(block.chunks_exact(4)) {
            *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    let mut a: [u32; N] = core::array::from_fn(|j| states[j][0]);
    let mut b: [u32; N] = core::array::from_fn(|j| states[j][1]);
    let mut c: [u32; N] = core::array::from_fn(|j| states[j][2]);
    let mut d: [u32; N] = core::array::from_fn(|j| states[j][3]);
    // One step in every stream: a = b + rotl(a + m[g] + K[i] + f(b, c, d), s), the terms that do not need
    // `b` (the newest word) added first; in G the two disjoint terms of f are added apart, so `c & !d` enters
    // early too (shortcuts described in github.com/animetosho/md5-optimisation).
    macro_rules! st {
        ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $g:literal, $i:literal, $s:literal) => {
            let mut t: [u32; N] =
                core::array::from_fn(|j| early!($f, $a[j], $c[j], $d[j]).wrapping_add(m[j][$g]).wrapping_add(K[$i]));
            opaque(&mut t);
            for j in 0..N {
                $a[j] = t[j].wrapping_add(late!($f, $b[j], $c[j], $d[j])).rotate_left($s).wrapping_add($b[j]);
            }
        };
    }
    macro_rules! early {
        (G, $a:expr, $c:expr, $d:expr) => { $a.wrapping_add($c & !$d) };
        ($f:ident, $a:expr, $c:expr, $d:expr) => { $a };
    }
    macro_rules! late {
        (F, $b:expr, $c:expr, $d:expr) => { $d ^ ($b & ($c ^ $d)) };
        (G, $b:expr, $c:expr, $d:expr) => { $b & $d };
        (H, $b:expr, $c:expr, $d:expr) => { $b ^ ($c ^ $d) };
        (I, $b:expr, $c:expr, $d:expr) => { $c ^ ($b | !$d) };
    }
    st!(F, a, b, c, d, 0, 0, 7); st!(F, d, a, b, c, 1, 1, 12);
    st!(F, c, d, a, b, 2, 2, 17); st!(F, b, c, d, a, 3, 3, 22);
    st!(F, a, b, c, d, 4, 4, 7); st!(F, d, a, b, c, 5, 5, 12);
    st!(F, c, d, a, b, 6, 6, 17); st!(F, b, c, d, a, 7, 7, 22);
    st!(F, a, b, c, d, 8, 8, 7); st!(F, d, a, b, c, 9, 9, 12);
    st!(F, c, d, a, b, 10, 10, 17); st!(F, b, c, d, a, 11, 11, 22);
    st!(F, a, b, c, d, 12, 12, 7); st!(F, d, a, b, c, 13, 13, 12);
    st!(F, c, d, a, b, 14, 14, 17); st!(F, b, c, d, a, 15, 15, 22);

    st!(G, a, b, c, d, 1, 16, 5); st!(G, d, a, b, c, 6, 17, 9);
    st!(G, c, d, a, b, 11, 18, 14); st!(G, b, c, d, a, 0, 19, 20);
    st!(G, a, b, c, d, 5, 20, 5); st!(G, d, a, b, c, 10, 21, 9);
    st!(G, c, d, a, b, 15, 22, 14); st!(G, b, c, d, a, 4, 23, 20);
    st!(G, a, b, c, d, 9, 24, 5); st!(G, d, a, b, c, 14, 25, 9);
    st!(G, c, d, a, b, 3, 26, 14); st!(G, b, c, d, a, 8, 27, 20);
    st!(G, a, b, c, d, 13, 28, 5); st!(G, d, a, b, c, 2, 29, 9);
    st!(G, c, d, a, b, 7, 30, 14); st!(G, b, c, d, a, 12, 31, 20);

    st!(H, a, b, c, d, 5, 32, 4); st!(H, d, a, b, c, 8, 33, 11);
    st!(H, c, d, a, b, 11, 34, 16); st!(H, b, c, d, a, 14, 35, 23);
    st!(H, a, b, c, d, 1, 36, 4); st!(H, d, a, b, c, 4, 37, 11);
    st!(H, c, d, a, b, 7, 38, 16); st!(H, b, c, d, a, 10, 39, 23);
    st!(H, a, b, c, d, 13, 40, 4); st!(H, d, a, b, c, 0, 41, 11);
    st!(H, c, d, a, b, 3, 42, 16); st!(H, b, c, d, a, 6, 43, 23);
    st!(H, a, b, c, d, 9, 44, 4); st!(H, d, a, b, c, 12, 45, 11);
    st!(H, c, d, a, b, 15, 46, 16); st!(H, b, c, d, a, 2, 47, 23);

    st!(I, a, b, c, d, 0, 48, 6); st!(I, d, a, b, c, 7, 49, 10);
    st!(I, c, d, a, b, 14, 50, 15); st!(I, b, c, d, a, 5, 51, 21);
    st!(I, a, b, c, d, 12, 52, 6); st!(I, d, a, b, c, 3, 53, 10);
    st!(I, c, d, a, b, 10, 54, 15); st!(I, b, c, d, a, 1, 55, 21);
    st!(I, a, b, c, d, 8, 56, 6); st!(I, d, a, b, c, 15, 57, 10);
    st!(I, c, d, a, b, 6, 58, 15); st!(I, b, c, d, a, 13, 59, 21);
    st!(I, a, b, c, d, 4, 60, 6); st!(I, d, a, b, c, 11, 61, 10);
    st!(I, c, d, a, b, 2, 62, 15); st!(I, b, c, d, a, 9, 63, 21);

    for (j, state) in states.into_iter().enumerate() {
        state[0] = state[0].wrapping_add(a[j]);
        state[1] = state[1].wrapping_add(b[j]);
        state[2] = state[2].wrapping_add(c[j]);
        state[3] = state[3].wrapping_add(d[j]);
    }
}

/// Streaming MD5.
#[derive(Clone)]
pub struct Md5 {
    pub(crate) state: [u32; 4],
    pub(crate) buffer: [u8; 64],
    pub(crate) buffered: usize,
    pub(crate) length: u64,
}

/// Bytes of an MD5 state kept outside Rust (in a JS Buffer, see md5x.rs): the four words, the length, the
/// count of buffered bytes and the buffer, little-endian.
pub const STATE_BYTES: usize = 16 + 8 + 4 + 64;

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    pub fn new() -> Self {
        Md5 { state: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476], buffer: [0; 64], buffered: 0, length: 0 }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let take = (64 - self.buffered).min(data.len());
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < 64 {
                return;
            }
            let block = self.buffer;
            compress(&mut self.state, &block);
            self.buffered = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            compress(&mut self.state, block);
        }
        let rest = blocks.remainder();
        self.buffer[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    /// The digest of everything so far (the state is not changed).
    pub fn digest(&self) -> [u8; 16] {
        let mut h = self.clone();
        let bits = self.length.wrapping_mul(8);
        let pad_len = if self.buffered < 56 { 56 - self.buffered } else { 120 - self.buffered };
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        h.update(&pad[..pad_len]);
        h.update(&bits.to_le_bytes());
        debug_assert_eq!(h.buffered, 0);
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(h.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// The state written by `store`; None when `bytes` cannot be one.
    pub fn load(bytes: &[u8]) -> Option<Md5> {
        if bytes.len() != STATE_BYTES {
            return None;
        }
        let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        let buffered = word(24) as usize;
        if buffered >= 64 {
            return None;
        }
        let mut buffer = [0u8; 64];
        buffer.copy_from_slice(&bytes[28..92]);
        let length = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
        Some(Md5 { state: [word(0), word(4), word(8), word(12)], buffer, buffered, length })
    }

    pub fn store(&self, out: &mut [u8]) {
        for (o, w) in out[..16].chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out[16..24].copy_from_slice(&self.length.to_le_bytes());
        out[24..28].copy_from_slice(&(self.buffered as u32).to_le_bytes());
        out[28..92].copy_from_slice(&self.buffer);
    }

    pub fn digest_of(data: &[u8]) -> [u8; 16] {
        let mut h = Md5::new();
        h.update(data);
        h.digest()
    }
}
