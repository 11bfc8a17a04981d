// The server at a glance, from the admin API's info (admin:ServerInfo): state, version, uptime, counts and
// usage, each drive's state, and a chart of the capacity used and free (all drives, then each); charts of requests, errors, traffic and drives from the realtime
// metrics (admin/v3/metrics, followed while the page is open). Shown to who may read it; the others see
// "Access denied".
import { useEffect, useState } from 'preact/hooks';
import { followMetrics, type MetricsSample, type ServerInfo, serverInfo } from '../admin-api.js';
import { BarChart, LineChart } from './charts.js';
import { ErrorLine, formatSize } from './common.js';

/** Seconds between samples, and how many the charts keep (two minutes). */
const EVERY = 2;
const KEPT = 61;

export function DashboardPage() {
  const [info, setInfo] = useState<ServerInfo>();
  const [error, setError] = useState<unknown>();
  useEffect(() => void serverInfo().then(setInfo, setError), []);
  const server = info?.servers[0];
  return (
    <section>
      <h2>Dashboard</h2>
      <ErrorLine error={error} />
      {info && server && (
        <div>
          <dl class="facts" data-testid="dashboard">
            <dt>State</dt>
            <dd>{info.mode}</dd>
            <dt>Version</dt>
            <dd>{server.version}</dd>
            <dt>Up for</dt>
            <dd>{formatUptime(server.uptime)}</dd>
            <dt>Region</dt>
            <dd>{info.region}</dd>
            <dt>Buckets</dt>
            <dd data-testid="bucket-count">{info.buckets.count}</dd>
            <dt>Objects</dt>
            <dd>{info.objects.count}</dd>
            <dt>Data</dt>
            <dd>{formatSize(info.usage.size)}</dd>
            <dt>Drives</dt>
            <dd>
              {info.backend.onlineDisks} online, {info.backend.offlineDisks} offline; parity{' '}
              {info.backend.standardSCParity}
            </dd>
          </dl>
          <BarChart title="Capacity" testId="capacity" bars={capacityBars(server.drives)} format={formatSize} />
          <table data-testid="drives">
            <thead>
              <tr>
                <th>Drive</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {server.drives.map((d) => (
                <tr key={d.path}>
                  <td>{d.path}</td>
                  <td>{d.state}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {info && <Charts />}
    </section>
  );
}

/** The realtime charts: rates between successive samples, the totals since the server started beside them. */
function Charts() {
  const [samples, setSamples] = useState<MetricsSample[]>([]);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const abort = new AbortController();
    followMetrics(EVERY, abort.signal, (s) => setSamples((kept) => [...kept.slice(1 - KEPT), s])).catch(setError);
    return () => abort.abort();
  }, []);
  const rate = (pick: (s: MetricsSample) => number) =>
    samples.slice(1).map((s, i) => {
      const before = samples[i];
      const seconds = Math.max(0.001, (s.at - before.at) / 1000);
      return Math.max(0, pick(s) - pick(before)) / seconds;
    });
  const last = samples.at(-1);
  const perSecond = (v: number) => `${v.toFixed(1)}/s`;
  const bytesPerSecond = (v: number) => `${formatSize(Math.round(v))}/s`;
  const count = (v: number) => String(v);
  return (
    <div>
      <ErrorLine error={error} />
      <p data-testid="metrics-totals">
        Since start: <span data-testid="total-requests">{last?.requests ?? '-'}</span> requests,{' '}
        <span data-testid="total-errors">{last?.errors ?? '-'}</span> errors,{' '}
        <span data-testid="total-received">{last ? formatSize(last.receivedBytes) : '-'}</span> received,{' '}
        <span data-testid="total-sent">{last ? formatSize(last.sentBytes) : '-'}</span> sent
      </p>
      <div class="charts">
        <LineChart
          title="Requests"
          testId="chart-requests"
          series={[
            { name: 'requests', values: rate((s) => s.requests), format: perSecond, tone: 'a' },
            { name: 'errors', values: rate((s) => s.errors), format: perSecond, tone: 'c' },
          ]}
        />
        <LineChart
          title="Traffic"
          testId="chart-traffic"
          series={[
            { name: 'received', values: rate((s) => s.receivedBytes), format: bytesPerSecond, tone: 'a' },
            { name: 'sent', values: rate((s) => s.sentBytes), format: bytesPerSecond, tone: 'b' },
          ]}
        />
        <LineChart
          title="Drives"
          testId="chart-drives"
          series={[
            { name: 'online', values: samples.map((s) => s.drives - s.offline), format: count, tone: 'b' },
            { name: 'offline', values: samples.map((s) => s.offline), format: count, tone: 'c' },
            { name: 'healing', values: samples.map((s) => s.healing), format: count, tone: 'a' },
          ]}
        />
      </div>
    </div>
  );
}

/** The capacity bars: the drives' file systems together (as `mc admin info` sums them), then each drive. */
function capacityBars(drives: ServerInfo['servers'][number]['drives']) {
  const sum = (pick: (d: (typeof drives)[number]) => number) => drives.reduce((a, d) => a + pick(d), 0);
  return [
    { name: 'all drives', used: sum((d) => d.usedspace), total: sum((d) => d.totalspace) },
    ...drives.map((d) => ({
      name: d.state === 'ok' ? d.path : `${d.path} (${d.state})`,
      used: d.usedspace,
      total: d.totalspace,
    })),
  ];
}

function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}
