// The server at a glance, from the admin API's info (admin:ServerInfo): state, version, uptime, counts and
// usage, and each drive's state and capacity. Shown to who may read it; the others see "Access denied".
import { useEffect, useState } from 'preact/hooks';
import { type ServerInfo, serverInfo } from '../admin-api.js';
import { ErrorLine, formatSize } from './common.js';

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
          <table data-testid="drives">
            <thead>
              <tr>
                <th>Drive</th>
                <th>State</th>
                <th>Used</th>
                <th>Capacity</th>
              </tr>
            </thead>
            <tbody>
              {server.drives.map((d) => (
                <tr key={d.path}>
                  <td>{d.path}</td>
                  <td>{d.state}</td>
                  <td>
                    <meter min={0} max={d.totalspace || 1} value={d.usedspace} /> {formatSize(d.usedspace)}
                  </td>
                  <td>{formatSize(d.totalspace)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}
