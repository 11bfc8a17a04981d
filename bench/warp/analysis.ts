// Reading warp's results back: `warp analyze --analyze.op OP` prints the measured operation's average (the
// preparation phase, e.g. the uploads before a GET benchmark, is another operation and so left out), and
// `--analyze.out FILE` writes its per-second segments as tab-separated values, whose first start and last
// end bound the measured window (over which the server's CPU is counted).

export interface WarpAverage {
  mibPerSec: number;
  objPerSec: number;
}

const UNIT: Record<string, number> = { B: 1 / 1024 ** 2, KiB: 1 / 1024, MiB: 1, GiB: 1024, TiB: 1024 ** 2 };

/** The `* Average: 2.54 MiB/s, 649.91 obj/s` line of `warp analyze` (colours off). */
export function parseAverage(text: string): WarpAverage {
  const m = /\* Average: ([\d.]+) ?(B|KiB|MiB|GiB|TiB)\/s, ([\d.]+) obj\/s/.exec(text);
  if (!m) throw new Error(`no "Average" line in warp's analysis:\n${text.slice(0, 2000)}`);
  return { mibPerSec: Number(m[1]) * UNIT[m[2]], objPerSec: Number(m[3]) };
}

/** warp's time stamps: `2026-12-05 09:42:20.797121224 +0000 UTC` -> epoch ms. */
export function parseWarpTime(s: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? \+0000 UTC$/.exec(s.trim());
  if (!m) throw new Error(`unexpected time stamp in warp's analysis: ${s}`);
  const frac = m[3] ? Number(m[3].slice(0, 4)) : 0;
  return Date.parse(`${m[1]}T${m[2]}Z`) + Math.round(frac * 1000);
}

export interface Segments {
  /** Epoch ms of the first segment's start and the last segment's end. */
  start: number;
  end: number;
  count: number;
  /** Failed operations in the segments. */
  errors: number;
}

/** The window covered by the segments of `--analyze.out` (a header line, then one line per segment). */
export function parseSegments(tsv: string): Segments {
  const lines = tsv.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error('warp wrote no segments (the run was too short to analyse?)');
  const head = lines[0].split('\t');
  const startCol = head.indexOf('start_time');
  const endCol = head.indexOf('end_time');
  const errorCol = head.indexOf('errors');
  if (startCol < 0 || endCol < 0 || errorCol < 0) throw new Error(`unexpected columns in warp's segments: ${lines[0]}`);
  const rows = lines.slice(1).map((l) => l.split('\t'));
  return {
    start: Math.min(...rows.map((r) => parseWarpTime(r[startCol]))),
    end: Math.max(...rows.map((r) => parseWarpTime(r[endCol]))),
    count: rows.length,
    errors: rows.reduce((n, r) => n + Number(r[errorCol]), 0),
  };
}

/** A counter sampled over time (CPU seconds), read at any instant by linear interpolation. */
export class Samples {
  private readonly points: [number, number][] = [];

  add(at: number, value: number): void {
    this.points.push([at, value]);
  }

  /** The value at `at` (clamped to the first and last samples). */
  at(at: number): number {
    const p = this.points;
    if (p.length === 0) return Number.NaN;
    if (at <= p[0][0]) return p[0][1];
    for (let i = 1; i < p.length; i++) {
      if (at <= p[i][0]) {
        const [t0, v0] = p[i - 1];
        const [t1, v1] = p[i];
        return t1 === t0 ? v1 : v0 + ((v1 - v0) * (at - t0)) / (t1 - t0);
      }
    }
    return p[p.length - 1][1];
  }
}
