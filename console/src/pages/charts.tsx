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
