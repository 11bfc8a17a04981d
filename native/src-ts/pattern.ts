// A deterministic block of bytes for known-answer tests and benchmarks (no randomness: the same bytes
// on every machine, so frozen digests of encoded output stay valid).
/** `length` bytes of a fixed pseudo-random sequence (xorshift32 from a fixed seed). */
export function blockTestPattern(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
