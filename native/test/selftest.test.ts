// The start-up self-test passes on this build and covers every kernel.
import { describe, expect, it } from 'vitest';
import { runSelfTest } from '../index.js';

describe('runSelfTest', () => {
  it('passes, kernel by kernel', () => {
    const report = runSelfTest();
    for (const r of report.results) expect(r, r.detail).toMatchObject({ ok: true });
    expect(report.ok).toBe(true);
    const kernels = report.results.map((r) => r.kernel);
    for (const k of [
      'CRC32',
      'CRC32C',
      'CRC64NVME',
      'MD5',
      'SHA1',
      'SHA256',
      'CRC combine',
      'HighwayHash',
      'Reed-Solomon',
      'MD5 lanes',
      'SigV4 chunk signatures',
      'fused upload and read',
    ]) {
      expect(kernels).toContain(k);
    }
  });
});
