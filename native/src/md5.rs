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

/// Hides `x` from the optimiser so that `a + m + k` is computed off the critical path (LLVM would
/// otherwise move the constant add after the round function, one more cycle per step).
#[inline(always)]
fn opaque(mut x: u32) -> u32 {
    // SAFETY: an empty asm block (a comment) that only claims to modify a register it is given.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("/* {0:e} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("/* {0:w} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    x
}

macro_rules! step {
    (F, $a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = opaque($a.wrapping_add($m).wrapping_add($k))
            .wrapping_add($d ^ ($b & ($c ^ $d)))
            .rotate_left($s)
            .wrapping_add($b);
    };
    (G, $a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = opaque($a.wrapping_add($m).wrapping_add($k).wrapping_add($c & !$d))
            .wrapping_add($b & $d)
            .rotate_left($s)
            .wrapping_add($b);
    };
    (H, $a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = opaque($a.wrapping_add($m).wrapping_add($k)).wrapping_add($b ^ ($c ^ $d)).rotate_left($s).wrapping_add($b);
    };
    (I, $a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a =
            opaque($a.wrapping_add($m).wrapping_add($k)).wrapping_add($c ^ ($b | !$d)).rotate_left($s).wrapping_add($b);
    };
}

#[inline(always)]
#[rustfmt::skip] // four steps a round on two lines each, as in RFC 1321
pub(crate) fn compress(state: &mut [u32; 4], block: &[u8]) {
    let mut m = [0u32; 16];
    for (w, c) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    step!(F, a, b, c, d, m[0], K[0], 7); step!(F, d, a, b, c, m[1], K[1], 12);
    step!(F, c, d, a, b, m[2], K[2], 17); step!(F, b, c, d, a, m[3], K[3], 22);
    step!(F, a, b, c, d, m[4], K[4], 7); step!(F, d, a, b, c, m[5], K[5], 12);
    step!(F, c, d, a, b, m[6], K[6], 17); step!(F, b, c, d, a, m[7], K[7], 22);
    step!(F, a, b, c, d, m[8], K[8], 7); step!(F, d, a, b, c, m[9], K[9], 12);
    step!(F, c, d, a, b, m[10], K[10], 17); step!(F, b, c, d, a, m[11], K[11], 22);
    step!(F, a, b, c, d, m[12], K[12], 7); step!(F, d, a, b, c, m[13], K[13], 12);
    step!(F, c, d, a, b, m[14], K[14], 17); step!(F, b, c, d, a, m[15], K[15], 22);

    step!(G, a, b, c, d, m[1], K[16], 5); step!(G, d, a, b, c, m[6], K[17], 9);
    step!(G, c, d, a, b, m[11], K[18], 14); step!(G, b, c, d, a, m[0], K[19], 20);
    step!(G, a, b, c, d, m[5], K[20], 5); step!(G, d, a, b, c, m[10], K[21], 9);
    step!(G, c, d, a, b, m[15], K[22], 14); step!(G, b, c, d, a, m[4], K[23], 20);
    step!(G, a, b, c, d, m[9], K[24], 5); step!(G, d, a, b, c, m[14], K[25], 9);
    step!(G, c, d, a, b, m[3], K[26], 14); step!(G, b, c, d, a, m[8], K[27], 20);
    step!(G, a, b, c, d, m[13], K[28], 5); step!(G, d, a, b, c, m[2], K[29], 9);
    step!(G, c, d, a, b, m[7], K[30], 14); step!(G, b, c, d, a, m[12], K[31], 20);

    step!(H, a, b, c, d, m[5], K[32], 4); step!(H, d, a, b, c, m[8], K[33], 11);
    step!(H, c, d, a, b, m[11], K[34], 16); step!(H, b, c, d, a, m[14], K[35], 23);
    step!(H, a, b, c, d, m[1], K[36], 4); step!(H, d, a, b, c, m[4], K[37], 11);
    step!(H, c, d, a, b, m[7], K[38], 16); step!(H, b, c, d, a, m[10], K[39], 23);
    step!(H, a, b, c, d, m[13], K[40], 4); step!(H, d, a, b, c, m[0], K[41], 11);
    step!(H, c, d, a, b, m[3], K[42], 16); step!(H, b, c, d, a, m[6], K[43], 23);
    step!(H, a, b, c, d, m[9], K[44], 4); step!(H, d, a, b, c, m[12], K[45], 11);
    step!(H, c, d, a, b, m[15], K[46], 16); step!(H, b, c, d, a, m[2], K[47], 23);

    step!(I, a, b, c, d, m[0], K[48], 6); step!(I, d, a, b, c, m[7], K[49], 10);
    step!(I, c, d, a, b, m[14], K[50], 15); step!(I, b, c, d, a, m[5], K[51], 21);
    step!(I, a, b, c, d, m[12], K[52], 6); step!(I, d, a, b, c, m[3], K[53], 10);
    step!(I, c, d, a, b, m[10], K[54], 15); step!(I, b, c, d, a, m[1], K[55], 21);
    step!(I, a, b, c, d, m[8], K[56], 6); step!(I, d, a, b, c, m[15], K[57], 10);
    step!(I, c, d, a, b, m[6], K[58], 15); step!(I, b, c, d, a, m[13], K[59], 21);
    step!(I, a, b, c, d, m[4], K[60], 6); step!(I, d, a, b, c, m[11], K[61], 10);
    step!(I, c, d, a, b, m[2], K[62], 15); step!(I, b, c, d, a, m[9], K[63], 21);

    state[0] = state[0].wrapping_add(a);
    state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c);
    state[3] = state[3].wrapping_add(d);
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
