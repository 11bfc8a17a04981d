// GET /minio/admin/v3/metrics: MinIO's realtime metrics (cmd/admin-handlers.go MetricsHandler), as madmin-go's
// Metrics() and the console's dashboard read them: a stream of madmin.RealtimeMetrics JSON documents, one per
// `interval` (at least 1 s), `n` of them (endless when absent), the last with `final: true`. admin:ServerInfo, as
// MinIO checks. Cairn has two of madmin's metric types:
//   Disk (1<<1): drives in total, offline, healing; per drive with by-disk=true (or the ByDisk flag)
//   API  (1<<10): requests, 4xx/5xx errors and bytes in and out since the server started (every worker's)
// A request for all types (types absent, 0, or madmin's MetricsAll of any version) gets these two; a request
// naming another type, a filter Cairn does not apply (pools, drive sets, buckets, jobs) or another flag is
// refused with NotImplemented rather than answered without it.
import { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { ObjectLayer } from '../../storage/object-layer.js';
import type { S3Response } from '../types.js';
import { parseGoDuration } from './trace.js';

const METRICS_DISK = 1 << 1;
const METRICS_API = 1 << 10;
const SUPPORTED = METRICS_DISK | METRICS_API;
/** madmin.MetricFlags Cairn applies: ByHost, ByDisk. */
const FLAG_BY_HOST = 1 << 1;
const FLAG_BY_DISK = 1 << 2;

/** The whole server's S3 request counts since it started (every worker's; http/metrics.ts counts them). */
export interface ApiTotals {
  requests: number;
  errors4xx: number;
  errors5xx: number;
  receivedBytes: number;
  sentBytes: number;
}

/**
 * The realtime streams open now: ended when the server closes, so that a dashboard left open does not hold a
 * graceful stop or restart for its whole grace period.
 */
export class MetricsStreams {
  private readonly open = new Set<() => void>();
  add(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }
  endAll(): void {
    for (const end of this.open) end();
    this.open.clear();
  }
}

export interface MetricsCall {
  storage: ObjectLayer;
  /** This node's `host:port`. */
  endpoint: string;
  startedAt: number;
  q: URLSearchParams;
  /** The request counts (absent: a server without the HTTP counters, e.g. a test's). */
  apiTotals?: () => Promise<ApiTotals>;
  streams: MetricsStreams;
}

interface Options {
  types: number;
  n: number;
  intervalMs: number;
  disks?: Set<string>;
  byDisk: boolean;
  byHost: boolean;
}

function invalid(message: string): S3Error {
  return new S3Error('XMinioAdminInvalidArgument', message);
}

/** madmin's MetricsAll: every bit below some power of two (its size grew between versions). */
const isAllTypes = (t: number): boolean => t === 0 || (t >= 2 ** 10 - 1 && ((t + 1) & t) === 0);

function options(q: URLSearchParams): Options {
  const typesText = q.get('types') || '0';
  const flagsText = q.get('flags') || '0';
  if (!/^\d{1,10}$/.test(typesText)) throw invalid('types must be a number');
  if (!/^\d{1,19}$/.test(flagsText)) throw invalid('flags must be a number');
  const asked = Number(typesText);
  const types = isAllTypes(asked) ? SUPPORTED : asked;
  if ((types & ~SUPPORTED) !== 0) throw new S3Error('NotImplemented', 'Cairn has only the Disk and API metrics');
  const flags = BigInt(flagsText);
  if ((flags & ~BigInt(FLAG_BY_HOST | FLAG_BY_DISK)) !== 0n)
    throw new S3Error('NotImplemented', 'Cairn applies only the ByHost and ByDisk metrics flags');
  for (const name of ['pool-idx', 'buckets', 'by-jobID', 'by-depID'])
    if (q.get(name)) throw new S3Error('NotImplemented', `metrics ${name} is not implemented`);
  // MinIO: a missing or bad n is endless; a bad interval or one under a second is a second.
  const nText = q.get('n') ?? '';
  const n = /^\d{1,9}$/.test(nText) && Number(nText) > 0 ? Number(nText) : Number.POSITIVE_INFINITY;
  const ns = parseGoDuration(q.get('interval') ?? '') ?? 0;
  const disks = (q.get('disks') ?? '').split(',').filter((d) => d !== '');
  if (disks.some((d) => d.startsWith('::drive-')))
    throw new S3Error('NotImplemented', 'metrics by drive set or pool are not implemented');
  return {
    types,
    n,
    intervalMs: Math.max(1000, ns / 1e6),
    disks: disks.length > 0 ? new Set(disks) : undefined,
    byDisk: q.get('by-disk')?.toLowerCase() === 'true' || (flags & BigInt(FLAG_BY_DISK)) !== 0n,
    byHost: q.get('by-host')?.toLowerCase() === 'true' || (flags & BigInt(FLAG_BY_HOST)) !== 0n,
  };
}

/** One madmin.RealtimeMetrics document. */
async function sample(c: MetricsCall, o: Options, final: boolean): Promise<Record<string, unknown>> {
  const collected = new Date().toISOString();
  const aggregated: Record<string, unknown> = {};
  let byDisk: Record<string, unknown> | undefined;
  if (o.types & METRICS_DISK) {
    const drives = (await c.storage.storageState())
      .flatMap((s) => s.drives)
      .filter((d) => !o.disks || o.disks.has(d.path));
    const disk = (ds: typeof drives) => ({
      collected,
      n_disks: ds.length,
      offline: ds.filter((d) => !d.online).length,
      healing: ds.filter((d) => d.healing).length,
      last_minute: {},
    });
    aggregated.disk = disk(drives);
    if (o.byDisk) byDisk = Object.fromEntries(drives.map((d) => [d.path, disk([d])]));
  }
  if (o.types & METRICS_API) {
    const t = c.apiTotals ? await c.apiTotals() : undefined;
    aggregated.api = {
      collected,
      nodes: 1,
      since_start: {
        nodes: 1,
        startTime: new Date(c.startedAt).toISOString(),
        endTime: collected,
        wallTimeSecs: (Date.now() - c.startedAt) / 1000,
        requests: t?.requests ?? 0,
        incomingBytes: t?.receivedBytes ?? 0,
        outgoingBytes: t?.sentBytes ?? 0,
        errors_4xx: t?.errors4xx ?? 0,
        errors_5xx: t?.errors5xx ?? 0,
      },
    };
  }
  return {
    collected,
    hosts: [c.endpoint],
    aggregated,
    ...(o.byHost ? { by_host: { [c.endpoint]: aggregated } } : {}),
    ...(byDisk ? { by_disk: byDisk } : {}),
    final,
  };
}

/** The answer: the documents as newline-separated JSON, written as they are collected; stops when the client goes. */
export function realtimeMetrics(c: MetricsCall): S3Response {
  const o = options(c.q);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    forget();
    stream.push(null);
  };
  const stream = new Readable({
    read() {
      if (timer || ended) return;
      // The first document at once, the next one `interval` after the one before.
      const wait = sent === 0 ? 0 : Math.max(0, last + o.intervalMs - Date.now());
      timer = setTimeout(() => {
        last = Date.now();
        const final = sent + 1 >= o.n;
        sample(c, o, final).then(
          (doc) => {
            timer = undefined;
            if (stream.destroyed || ended) return;
            sent++;
            stream.push(`${JSON.stringify(doc)}\n`);
            if (final) end();
          },
          (e: Error) => stream.destroy(e),
        );
      }, wait);
    },
    destroy(err, callback) {
      ended = true;
      clearTimeout(timer);
      forget();
      callback(err);
    },
  });
  const forget = c.streams.add(end);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: stream };
}
