// `cairn selftest` prints one line per kernel and exits non-zero on any wrong answer.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { selftest } from '../../src/cli/selftest.js';

function capture(): { out: Writable; text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { out, text: () => chunks.join('') };
}

describe('cairn selftest', () => {
  it('runs the real kernels and exits 0', () => {
    const c = capture();
    expect(selftest(c.out)).toBe(0);
    expect(c.text()).toMatch(/^ok +Reed-Solomon/m);
    expect(c.text()).toMatch(/^ok +HighwayHash/m);
    expect(c.text()).toMatch(/selftest: all \d+ kernels ok/);
  });

  it('exits 1 and names the kernel on a wrong answer', () => {
    const c = capture();
    const status = selftest(c.out, () => ({
      ok: false,
      results: [
        { kernel: 'CRC32', ok: true, ms: 0.1 },
        { kernel: 'Reed-Solomon', ok: false, ms: 0.2, detail: 'SHA-256 of 4+2 shards: got 00, want 11' },
      ],
    }));
    expect(status).toBe(1);
    expect(c.text()).toMatch(/^FAIL Reed-Solomon .*got 00, want 11$/m);
    expect(c.text()).toContain('1 kernel(s) FAILED');
  });
});
