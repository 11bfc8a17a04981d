// The latency histogram and the unit parsers: percentiles within the 1% bucket width, merging.
import { describe, expect, it } from 'vitest';
import { Histogram } from './histogram.js';
import { formatSize, parseDuration, parseSize } from './units.js';

describe('Histogram', () => {
  it('gives percentiles within 1% and the exact max', () => {
    const h = new Histogram();
    for (let us = 1; us <= 100_000; us++) h.record(us);
    expect(h.percentile(0.5) / 50_000).toBeCloseTo(1, 1);
    expect(Math.abs(h.percentile(0.99) / 99_000 - 1)).toBeLessThan(0.011);
    expect(h.percentile(1)).toBe(100_000);
    expect(h.maxUs).toBe(100_000);
    expect(h.sumUs / h.count).toBeCloseTo(50_000.5, 3);
  });

  it('merges the reports of several workers', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 900; i++) a.record(1000);
    for (let i = 0; i < 100; i++) b.record(50_000);
    const m = new Histogram();
    m.merge(a.toData());
    m.merge(b.toData());
    expect(m.count).toBe(1000);
    expect(Math.abs(m.percentile(0.9) / 1000 - 1)).toBeLessThan(0.011);
    expect(Math.abs(m.percentile(0.91) / 50_000 - 1)).toBeLessThan(0.011);
    expect(m.maxUs).toBe(50_000);
  });
});

describe('units', () => {
  it('parses and prints sizes and durations', () => {
    expect(parseSize('4KiB')).toBe(4096);
    expect(parseSize('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseSize('1GB')).toBe(1e9);
    expect(parseSize('100')).toBe(100);
    expect(() => parseSize('4 parsecs')).toThrow(/not a size/);
    expect(formatSize(8 * 1024 * 1024)).toBe('8MiB');
    expect(formatSize(1000)).toBe('1000B');
    expect(parseDuration('20s')).toBe(20_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
