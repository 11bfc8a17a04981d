// Reading warp analyze's output back: the average line in its units, and the measured window and errors
// from the segments file (a shortened copy of what warp v1.0.7 writes).
import { describe, expect, it } from 'vitest';
import { parseAverage, parseSegments, parseWarpTime, Samples } from './analysis.js';

const TEXT = `
----------------------------------------
Operation: PUT. Concurrency: 32
* Average: 2.54 MiB/s, 649.91 obj/s

Throughput, split into 7 x 1s:
 * Fastest: 3.2MiB/s, 820.53 obj/s
`;

const TSV = [
  'index\top\thost\tduration_s\tobjects_per_op\tbytes\tfull_ops\tpartial_ops\tops_started\tops_ended\terrors\tmb_per_sec\tops_ended_per_sec\tobjs_per_sec\treqs_ended_avg_ms\tstart_time\tend_time',
  '0\tPUT\thttp://127.0.0.1:1\t1\t1\t1735527\t401\t63\t433\t432\t0\t1.65\t432\t423.7\t75.7\t2026-12-05 09:42:20.797121224 +0000 UTC\t2026-12-05 09:42:21.797121224 +0000 UTC',
  '1\tPUT\thttp://127.0.0.1:1\t1\t1\t3360842\t780\t64\t812\t812\t2\t3.20\t812\t820.5\t38.7\t2026-12-05 09:42:21.797121224 +0000 UTC\t2026-12-05 09:42:22.797121224 +0000 UTC',
  '',
].join('\n');

describe('warp analysis', () => {
  it('reads the average in any unit', () => {
    expect(parseAverage(TEXT)).toEqual({ mibPerSec: 2.54, objPerSec: 649.91 });
    expect(parseAverage('* Average: 1.5 GiB/s, 24.00 obj/s').mibPerSec).toBe(1536);
    expect(parseAverage('* Average: 512 KiB/s, 128.00 obj/s').mibPerSec).toBe(0.5);
    expect(() => parseAverage('no such line')).toThrow(/Average/);
  });

  it('reads the measured window and the errors from the segments', () => {
    const s = parseSegments(TSV);
    expect(s.start).toBe(parseWarpTime('2026-12-05 09:42:20.797121224 +0000 UTC'));
    expect(s.end - s.start).toBe(2000);
    expect(s.count).toBe(2);
    expect(s.errors).toBe(2);
    expect(new Date(s.start).toISOString()).toBe('2026-12-05T09:42:20.797Z');
  });

  it('interpolates sampled counters at the window edges', () => {
    const c = new Samples();
    c.add(1000, 10);
    c.add(2000, 20);
    expect(c.at(1500)).toBe(15);
    expect(c.at(500)).toBe(10);
    expect(c.at(2500)).toBe(20);
  });
});
