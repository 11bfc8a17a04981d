// A small line chart in SVG (no charting library: the bundle stays small and offline): one or more series over
// the same times, scaled to the largest value shown, with each series' latest value written beside its name.
export interface Series {
  name: string;
  /** One value per sample, oldest first. */
  values: number[];
  /** How the latest value is written (e.g. "12.0 req/s"). */
  format: (v: number) => string;
  /** CSS class of the line (its colour, app.css). */
  tone: 'a' | 'b' | 'c';
}

const W = 300;
const H = 80;

export function LineChart({ title, series, testId }: { title: string; series: Series[]; testId: string }) {
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const y = (v: number) => (H - (v / top) * (H - 4)).toFixed(1);
  // One sample is drawn as a flat line across the chart.
  const points = (values: number[]) =>
    values.length === 1
      ? `0,${y(values[0])} ${W},${y(values[0])}`
      : values.map((v, i) => `${((i * W) / (values.length - 1)).toFixed(1)},${y(v)}`).join(' ');
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>
        <strong>{title}</strong>
        {series.map((s) => (
          <span key={s.name} class={`legend tone-${s.tone}`}>
            {s.name}: <span data-testid={`${testId}-${s.name}`}>{s.format(s.values.at(-1) ?? 0)}</span>
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} preserveAspectRatio="none">
        {series.map((s) => (
          <polyline key={s.name} class={`line tone-${s.tone}`} points={points(s.values)} />
        ))}
      </svg>
    </figure>
  );
}

/** One bar of a BarChart: how much of `total` is used. */
export interface Bar {
  name: string;
  used: number;
  total: number;
}

const BAR_H = 14;
const BAR_GAP = 6;

/**
 * Horizontal bars of used against total (capacity), one per entry, each with its figures written under the
 * chart (`format`ted); the exact numbers ride on data attributes for tests and tools.
 */
export function BarChart({
  title,
  bars,
  format,
  testId,
}: {
  title: string;
  bars: Bar[];
  format: (v: number) => string;
  testId: string;
}) {
  const h = Math.max(1, bars.length * (BAR_H + BAR_GAP) - BAR_GAP);
  const share = (b: Bar) => (b.total > 0 ? Math.min(1, Math.max(0, b.used / b.total)) : 0);
  return (
    <figure class="chart bars" data-testid={testId}>
      <figcaption>
        <strong>{title}</strong>
        <span class="legend tone-a">used</span>
        <span class="legend tone-free">free</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${h}`}
        role="img"
        aria-label={title}
        preserveAspectRatio="none"
        style={{ height: `${h}px` }}
      >
        {bars.map((b, i) => (
          <g key={b.name} data-testid={`${testId}-bar`} data-used={b.used} data-total={b.total}>
            <rect class="bar free" x={0} y={i * (BAR_H + BAR_GAP)} width={W} height={BAR_H} />
            <rect class="bar tone-a" x={0} y={i * (BAR_H + BAR_GAP)} width={(W * share(b)).toFixed(1)} height={BAR_H} />
          </g>
        ))}
      </svg>
      <ol class="bar-figures">
        {bars.map((b) => (
          <li key={b.name} data-testid={`${testId}-figures`}>
            <span class="bar-name">{b.name}</span>: {format(b.used)} used of {format(b.total)},{' '}
            {format(Math.max(0, b.total - b.used))} free ({Math.round(share(b) * 100)}%)
          </li>
        ))}
      </ol>
    </figure>
  );
}
