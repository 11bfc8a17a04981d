// MinIO's admin API (GET /minio/admin/v3/...), signed for s3 as madmin-go signs it: what the dashboard reads
// (the server's info, and its realtime metrics for the charts).
import { call, isDenied, readJsonLines } from './client.js';

export interface ServerInfo {
  mode: string;
  region: string;
  buckets: { count: number };
  objects: { count: number };
  usage: { size: number };
  backend: { onlineDisks: number; offlineDisks: number; standardSCParity: number };
  servers: {
    version: string;
    uptime: number;
    drives: { path: string; state: string; usedspace: number; totalspace: number }[];
  }[];
}

export async function serverInfo(): Promise<ServerInfo> {
  const res = await call({ bucket: 'minio', key: 'admin/v3/info' });
  return (await res.json()) as ServerInfo;
}

/** Whether a probe of an admin call passes the server's authorization (any answer but AccessDenied). */
async function allowed(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (e) {
    if (isDenied(e)) return false;
    throw e;
  }
}

/** Whether this identity may read the server's information (admin:ServerInfo: the Dashboard shows only then). */
export const mayReadServerInfo = (): Promise<boolean> => allowed(serverInfo);

/** Whether this identity may heal (admin:Heal: the Heal page shows only then); reads the background state. */
export const mayHeal = (): Promise<boolean> =>
  allowed(() => call({ method: 'POST', bucket: 'minio', key: 'admin/v3/background-heal/status' }));

/**
 * Whether this identity may trace (admin:ServerTrace: the Trace page shows only then): the trace stream is
 * opened and closed as soon as it answers (the server checks the action before it starts the stream).
 */
export const mayTrace = (): Promise<boolean> =>
  allowed(async () => {
    const res = await call({ bucket: 'minio', key: 'admin/v3/trace' });
    await res.body?.cancel();
  });

/** One realtime metrics document (madmin.RealtimeMetrics, GET admin/v3/metrics), the parts the charts show. */
export interface MetricsSample {
  /** ms since the epoch */
  at: number;
  /** Since the server started, every worker's. */
  requests: number;
  errors: number;
  receivedBytes: number;
  sentBytes: number;
  drives: number;
  offline: number;
  healing: number;
}

interface RealtimeMetrics {
  collected: string;
  aggregated: {
    disk?: { n_disks: number; offline?: number; healing?: number };
    api?: {
      since_start: {
        requests?: number;
        incomingBytes?: number;
        outgoingBytes?: number;
        errors_4xx?: number;
        errors_5xx?: number;
      };
    };
  };
}

/**
 * Follows the server's realtime metrics (drives and S3 requests: madmin's Disk and API types), one sample every
 * `seconds`, until `signal` aborts. Needs admin:ServerInfo, as the info.
 */
export async function followMetrics(seconds: number, signal: AbortSignal, onSample: (s: MetricsSample) => void) {
  const query: [string, string][] = [
    ['types', String((1 << 1) | (1 << 10))],
    ['interval', `${seconds}s`],
  ];
  let res: Response;
  try {
    res = await call({ bucket: 'minio', key: 'admin/v3/metrics', query, signal });
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
  await readJsonLines(res, signal, (line) => {
    const m = line as RealtimeMetrics;
    const api = m.aggregated.api?.since_start ?? {};
    const disk = m.aggregated.disk;
    onSample({
      at: Date.parse(m.collected),
      requests: api.requests ?? 0,
      errors: (api.errors_4xx ?? 0) + (api.errors_5xx ?? 0),
      receivedBytes: api.incomingBytes ?? 0,
      sentBytes: api.outgoingBytes ?? 0,
      drives: disk?.n_disks ?? 0,
      offline: disk?.offline ?? 0,
      healing: disk?.healing ?? 0,
    });
  });
}
