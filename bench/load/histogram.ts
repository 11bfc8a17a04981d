// Latency histogram with log-spaced buckets (1% wide, 1 µs .. ~30 min): constant memory, O(1) record,
// mergeable across worker threads, percentiles within 1%. The exact maximum is kept beside it.
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 2200;

export interface HistogramData {
  /** [bucket index, count] for each non-empty bucket. */
  buckets: Array<[number, number]>;
  count: number;
  sumUs: number;
  maxUs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sumUs = 0;
  maxUs = 0;

  record(us: number): void {
    const v = Math.max(us, 1);
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v) / LOG_GROWTH));
    this.counts[i]++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Latency in µs below which the fraction q (0..1) of samples fall (bucket midpoint). */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= target) return Math.min(this.maxUs, GROWTH ** (i + 0.5));
    }
    return this.maxUs;
  }

  merge(d: HistogramData): void {
    for (const [i, c] of d.buckets) this.counts[i] += c;
    this.count += d.count;
    this.sumUs += d.sumUs;
    if (d.maxUs > this.maxUs) this.maxUs = d.maxUs;
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { buckets, count: this.count, sumUs: this.sumUs, maxUs: this.maxUs };
  }
}
