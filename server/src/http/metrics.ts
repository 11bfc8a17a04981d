// Prometheus metrics under MinIO's names (cmd/metrics-v2.go), so that MinIO's Grafana dashboards read Cairn:
// the S3 request counters by api, the TTFB distribution, traffic, process uptime and Node's process metrics
// are kept per process and summed over the workers of a multi-worker server at scrape time; drive and
// capacity gauges are probed by the process answering the scrape (every worker sees the same drives).
// The request path only bumps plain numbers in a per-api record (made once per api, and per bucket and api):
// prom-client's labelled series are built when a scrape reads them. /minio/v2/metrics/bucket shows the series
// per bucket (requests, errors, TTFB, traffic; usage from the data usage walk, at most a minute old, as MinIO
// caches it; replication); the cluster and node endpoints show the rest. The cluster endpoint alone has the
// cluster's usage, from the newest usage count any process made (the leader's after each scanner cycle, or one
// for an admin call): a scrape never starts a count. S3 Select's bytes are counted per process from each query's
// Stats (api/select.ts SelectCounts).
import { readdir } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import { type ApiTotals, mergeRows, notifyRows, type QueueRow, replicationRows } from '../api/admin/index.js';
import type { DataUsage } from '../api/admin/server-info.js';
import { SIZE_RANGES } from '../api/admin/server-info.js';
import type { ReplicationTargetStatus } from '../api/index.js';
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  type PrometheusContentType,
  Registry,
} from 'prom-client';
import type { ObjectLayer, OperationName, TargetStatus } from '../api/index.js';
import type { SelectCounts } from '../api/select.js';
import { quotaLimit, storedQuota } from '../api/quota.js';

/** How often the event loop's lag is sampled (nodejs_eventloop_lag_* series), milliseconds. */
const EVENT_LOOP_SAMPLE_MS = 100;

/** One process's series as prom-client's registry gives them (getMetricsAsJSON), sent between processes. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** How the workers of one server pool their series (cluster/ does it over the primary's IPC channel). */
export interface MetricsSharing {
  /** How this process answers when another asks for its series. */
  provide(local: () => Promise<MetricsJson>): void;
  /** Every serving process's series, this one's included. */
  gather(): Promise<MetricsJson[]>;
}

/** MinIO's TTFB buckets (cmd/metrics.go) and its `le` labels (`%.3f`, so "0.050" and "+Inf"). */
const TTFB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TTFB_LE = [...TTFB_BUCKETS.map((b) => b.toFixed(3)), '+Inf'];

/**
 * MinIO's `api` label where its handler has another name than Cairn's operation (cmd/api-router.go, the
 * handler's name without "Handler", in lower case): MinIO's dashboards query these. Others are the same.
 */
const MINIO_API_NAMES: Readonly<Partial<Record<OperationName, string>>> = {
  CreateBucket: 'putbucket',
  CreateMultipartUpload: 'newmultipartupload',
  UploadPart: 'putobjectpart',
  UploadPartCopy: 'copyobjectpart',
  ListParts: 'listobjectparts',
  DeleteObjects: 'deletemultipleobjects',
  PostObject: 'postpolicybucket',
  GetBucketLifecycleConfiguration: 'getbucketlifecycle',
  PutBucketLifecycleConfiguration: 'putbucketlifecycle',
  GetBucketNotificationConfiguration: 'getbucketnotification',
  PutBucketNotificationConfiguration: 'putbucketnotification',
  GetObjectLockConfiguration: 'getbucketobjectlockconfig',
  PutObjectLockConfiguration: 'putbucketobjectlockconfig',
  // MinIO serves both with one handler, ListenNotification.
  ListenBucketNotification: 'listennotification',
  ListenNotification: 'listennotification',
};

/** The `api` label of an operation: MinIO's name for it. */
export function apiLabel(operation: string): string {
  return MINIO_API_NAMES[operation as OperationName] ?? operation.toLowerCase();
}

/** The counts of one S3 api (MinIO's label: the handler's name in lower case, e.g. getobject). */
class ApiCounts {
  requests = 0;
  errors4xx = 0;
  errors5xx = 0;
  /** Requests answered within each TTFB bucket, cumulative, the last one +Inf. */
  readonly ttfb = new Float64Array(TTFB_LE.length);
  constructor(readonly api: string) {}

  /** One request answered with `status` after `ttfbSeconds`. */
  count(status: number, ttfbSeconds: number): void {
    this.requests++;
    if (status >= 500) this.errors5xx++;
    else if (status >= 400) this.errors4xx++;
    const ttfb = this.ttfb;
    for (let i = 0; i < TTFB_BUCKETS.length; i++) if (ttfbSeconds <= TTFB_BUCKETS[i]) ttfb[i]++;
    ttfb[TTFB_BUCKETS.length]++;
  }
}

/** The counts of one bucket: per api, and its traffic. */
class BucketCounts {
  /** By operation name. */
  readonly apis = new Map<string, ApiCounts>();
  received = 0;
  sent = 0;
}

/** How old the usage behind the bucket endpoint's usage series may be (MinIO caches it a minute). */
const USAGE_MAX_AGE_MS = 60_000;

/** Paths of the metrics endpoints and what they show. */
export const METRICS_PATHS = new Map([
  ['/minio/v2/metrics/cluster', 'cluster'],
  ['/minio/v2/metrics/node', 'node'],
  ['/minio/v2/metrics/bucket', 'bucket'],
] as const);
export type MetricsScope = 'cluster' | 'node' | 'bucket';

/** The series the bucket endpoint shows (labelled by bucket), and only it. */
const isBucketSeries = (name: string): boolean => name.startsWith('minio_bucket_') || name.startsWith('cairn_bucket_');

export class ServerMetrics {
  /** This process's series. */
  private readonly registry = new Registry();
  /** By operation name as the router gives it (GetObject). */
  private readonly apis = new Map<string, ApiCounts>();
  /**
   * By bucket name. A bucket is counted from its first request that succeeded (so requests naming buckets that
   * do not exist make no entries), and forgotten when this process deletes it.
   */
  private readonly buckets = new Map<string, BucketCounts>();
  private receivedBytes = 0;
  private sentBytes = 0;
  /** MinIO's `server` label on every series: the node's `host:port` (named once the server listens). */
  private serverName = '';

  constructor(
    private readonly storage: ObjectLayer,
    private readonly sharing?: MetricsSharing,
    /** This process's notification targets and their counters. */
    private readonly notifyStatus: () => TargetStatus[] = () => [],
    /** Each replication target's queue and counters in this process (api/replication). */
    private readonly replication?: () => ReplicationTargetStatus[],
    /** The data usage walk (api/admin), at most `maxAgeMs` old: the bucket endpoint's usage series. */
    private readonly usage?: (maxAgeMs: number) => Promise<DataUsage>,
    /** The bytes this process's S3 Select queries scanned, processed and returned. */
    private readonly select?: SelectCounts,
    /** This process's last data usage count, however old, without starting one (the cluster usage series). */
    private readonly usageCache?: () => DataUsage | undefined,
  ) {
    this.defineProcessSeries();
    this.defineBucketSeries();
    this.defineNotifySeries();
    // prom-client samples the event loop's lag with a timer of this period (its default, 10 ms, woke every idle
    // loop 100 times a second); ten samples a second are plenty for a scrape every few seconds.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    sharing?.provide(() => this.localSeries());
  }

  /**
   * This process's series, with the cluster usage of its last usage count when it has one, and its queues' rows
   * (never rendered: the admin API's queue listing, `queues`).
   */
  private async localSeries(): Promise<MetricsJson> {
    const own = await this.registry.getMetricsAsJSON();
    const usage = this.usageCache?.();
    const rows = [...notifyRows(this.notifyStatus()), ...replicationRows(this.replication?.() ?? [])];
    const queues = {
      name: QUEUE_ROWS,
      help: 'queue rows (admin API)',
      type: 'gauge',
      aggregator: 'omit',
      values: rows.map((r) => ({ value: 0, labels: { row: JSON.stringify(r) } })),
    } as unknown as MetricsJson[number];
    return [...own, ...(usage ? await clusterUsage(usage).getMetricsAsJSON() : []), queues];
  }

  /** Every notification and replication queue of the whole server (all workers), one row per target. */
  async queues(): Promise<QueueRow[]> {
    const gathered = this.sharing ? await this.sharing.gather() : [await this.localSeries()];
    const rows: QueueRow[] = [];
    for (const series of gathered)
      for (const m of series)
        if (m.name === QUEUE_ROWS) for (const v of m.values) rows.push(JSON.parse(String(v.labels.row)) as QueueRow);
    return mergeRows(rows);
  }

  /**
   * One S3 request answered, on `bucket` when it named one (called on the request path: no allocation once the
   * api, and the bucket's api, have been seen).
   */
  record(
    operation: string,
    bucket: string | undefined,
    status: number,
    ttfbSeconds: number,
    received: number,
    sent: number,
  ): void {
    apiCounts(this.apis, operation).count(status, ttfbSeconds);
    this.receivedBytes += received;
    this.sentBytes += sent;
    if (bucket === undefined) return;
    if (operation === 'DeleteBucket' && status < 300) {
      this.buckets.delete(bucket);
      return;
    }
    let b = this.buckets.get(bucket);
    if (!b) {
      if (status >= 400) return;
      b = new BucketCounts();
      this.buckets.set(bucket, b);
    }
    apiCounts(b.apis, operation).count(status, ttfbSeconds);
    b.received += received;
    b.sent += sent;
  }

  /** The Prometheus text of an endpoint: the whole server's series (all workers). */
  async render(scope: MetricsScope): Promise<{ contentType: string; text: string }> {
    const gathered = freshestUsage(this.sharing ? await this.sharing.gather() : [await this.localSeries()]);
    const wanted = (name: string) =>
      name !== QUEUE_ROWS &&
      isBucketSeries(name) === (scope === 'bucket') &&
      (scope === 'cluster' || !CLUSTER_USAGE.has(name));
    const processes = AggregatorRegistry.aggregate<PrometheusContentType>(
      gathered.map((series) => series.filter((m) => wanted(m.name))),
    );
    const merged = Registry.merge([
      processes,
      await (scope === 'bucket' ? this.usageSeries() : this.storageSeries(scope)),
    ]);
    if (this.serverName !== '') merged.setDefaultLabels({ server: this.serverName });
    return { contentType: merged.contentType, text: await merged.metrics() };
  }

  /** The whole server's request counts and traffic (the admin API's realtime metrics), from every worker. */
  async totals(): Promise<ApiTotals> {
    const gathered = this.sharing ? await this.sharing.gather() : [await this.registry.getMetricsAsJSON()];
    const sum = (name: string) => {
      let total = 0;
      for (const series of gathered)
        for (const m of series) if (m.name === name) for (const v of m.values) total += v.value;
      return total;
    };
    return {
      requests: sum('minio_s3_requests_total'),
      errors4xx: sum('minio_s3_requests_4xx_errors_total'),
      errors5xx: sum('minio_s3_requests_5xx_errors_total'),
      receivedBytes: sum('minio_s3_traffic_received_bytes'),
      sentBytes: sum('minio_s3_traffic_sent_bytes'),
    };
  }

  private defineProcessSeries(): void {
    const registers = [this.registry];
    const apis = () => this.apis.values();
    const perApi = (name: string, help: string, value: (c: ApiCounts) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['api'],
        registers,
        collect() {
          this.reset();
          // MinIO lists an api under an error series only once it has had such an error.
          for (const c of apis()) if (value(c) > 0) this.inc({ api: c.api }, value(c));
        },
      });
    perApi('minio_s3_requests_total', 'Total number of S3 requests', (c) => c.requests);
    perApi(
      'minio_s3_requests_errors_total',
      'Total number of S3 requests with (4xx and 5xx) errors',
      (c) => c.errors4xx + c.errors5xx,
    );
    perApi('minio_s3_requests_4xx_errors_total', 'Total number of S3 requests with (4xx) errors', (c) => c.errors4xx);
    perApi('minio_s3_requests_5xx_errors_total', 'Total number of S3 requests with (5xx) errors', (c) => c.errors5xx);
    // MinIO gives the distribution as a gauge with an `le` label (not a Prometheus histogram): its dashboards
    // query it so.
    new Gauge({
      name: 'minio_s3_requests_ttfb_seconds_distribution',
      help: 'Distribution of time to first byte across API calls',
      labelNames: ['api', 'le'],
      registers,
      collect() {
        this.reset();
        for (const c of apis()) TTFB_LE.forEach((le, i) => this.set({ api: c.api, le }, c.ttfb[i]));
      },
    });
    const traffic = (name: string, help: string, value: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    // Bucket replication, per source bucket and target, under MinIO's names (its v2 bucket metrics); the queue's
    // length is Cairn's.
    const targets = () => this.replication?.() ?? [];
    const perTarget = (name: string, help: string, value: (t: ReplicationTargetStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['bucket', 'targetArn'],
        registers,
        collect() {
          this.reset();
          for (const t of targets()) if (t.bucket !== '') this.set({ bucket: t.bucket, targetArn: t.arn }, value(t));
        },
      });
    perTarget('minio_bucket_replication_sent_bytes', 'Total bytes replicated to the target', (t) => t.replicatedBytes);
    perTarget(
      'minio_bucket_replication_sent_count',
      'Total replication operations sent to the target',
      (t) => t.replicated,
    );
    perTarget(
      'minio_bucket_replication_total_failed_count',
      'Total replication operations failed (given up) for the target',
      (t) => t.failed,
    );
    perTarget(
      'cairn_bucket_replication_queued_count',
      'Changes waiting to be replicated to the target',
      (t) => t.queued,
    );
    perTarget(
      'cairn_bucket_replication_failed_attempts_total',
      'Replication attempts to the target that failed (then retried)',
      (t) => t.failedAttempts,
    );
    // The replication lag (MinIO has no such series): the oldest change waiting, the largest over the workers.
    new Gauge({
      name: 'cairn_bucket_replication_oldest_pending_age_seconds',
      help: 'Seconds since the oldest change waiting to be replicated to the target was queued (0: none waits)',
      labelNames: ['bucket', 'targetArn'],
      registers,
      aggregator: 'max',
      collect() {
        this.reset();
        const now = Date.now();
        for (const t of targets())
          if (t.bucket !== '') this.set({ bucket: t.bucket, targetArn: t.arn }, ageSeconds(now, t.oldestAt));
      },
    });
    traffic('minio_s3_traffic_received_bytes', 'Total number of s3 bytes received', () => this.receivedBytes);
    // S3 Select's byte counts (MinIO has no such series; AWS's Stats names): the objects' bytes read as stored,
    // the bytes after decompression, the records' bytes sent.
    const select = this.select;
    if (select) {
      traffic('cairn_s3_select_bytes_scanned_total', 'Bytes S3 Select queries read from objects', () => select.scanned);
      traffic(
        'cairn_s3_select_bytes_processed_total',
        'Bytes S3 Select queries processed (after decompression)',
        () => select.processed,
      );
      traffic(
        'cairn_s3_select_bytes_returned_total',
        'Bytes of records S3 Select queries returned',
        () => select.returned,
      );
    }
    traffic('minio_s3_traffic_sent_bytes', 'Total number of s3 bytes sent', () => this.sentBytes);
    // The process's own figures under MinIO's node names (its dashboard's memory, CPU, start and descriptors
    // panels). Worker threads share one process, whose figures each of them reads: the largest is the
    // process's; worker processes each have their own, summed.
    const shared = isMainThread ? 'sum' : 'max';
    new Gauge({
      name: 'minio_node_process_resident_memory_bytes',
      help: 'Resident memory size in bytes',
      registers,
      aggregator: shared,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({
      name: 'minio_node_process_cpu_total_seconds',
      help: 'Total user and system CPU time spent in seconds',
      registers,
      aggregator: shared,
      collect() {
        const { user, system } = process.cpuUsage();
        this.set((user + system) / 1e6);
      },
    });
    new Gauge({
      name: 'minio_node_process_starttime_seconds',
      help: 'Start time for MinIO process per node, time in seconds since Unix epoc',
      registers,
      aggregator: 'min',
      collect() {
        this.set(Math.round(Date.now() / 1000 - process.uptime()));
      },
    });
    new Gauge({
      name: 'minio_node_file_descriptor_open_total',
      help: 'Total number of open file descriptors by the MinIO Server process',
      registers,
      aggregator: shared,
      async collect() {
        // Linux's count of the process's descriptors; elsewhere the series is left at 0.
        const fds = await readdir('/proc/self/fd').catch(() => []);
        this.set(fds.length);
      },
    });
    new Gauge({
      name: 'minio_node_process_uptime_seconds',
      help: 'Uptime for MinIO process per node in seconds',
      registers,
      // The server's uptime: its longest-running process (a restarted worker is younger).
      aggregator: 'max',
      collect() {
        this.set(process.uptime());
      },
    });
  }

  /** Names the node for MinIO's `server` label, given to every series of a scrape. */
  nameServer(hostPort: string): void {
    this.serverName = hostPort;
  }

  /** Requests, errors, TTFB and traffic per bucket: MinIO's v2 bucket series. */
  private defineBucketSeries(): void {
    const registers = [this.registry];
    const buckets = () => this.buckets.entries();
    const perApi = (name: string, help: string, value: (c: ApiCounts) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['api', 'bucket'],
        registers,
        collect() {
          this.reset();
          for (const [bucket, b] of buckets())
            for (const c of b.apis.values()) if (value(c) > 0) this.inc({ api: c.api, bucket }, value(c));
        },
      });
    perApi('minio_bucket_requests_total', 'Total number of S3 requests on a bucket', (c) => c.requests);
    perApi(
      'minio_bucket_requests_4xx_errors_total',
      'Total number of S3 requests with (4xx) errors on a bucket',
      (c) => c.errors4xx,
    );
    perApi(
      'minio_bucket_requests_5xx_errors_total',
      'Total number of S3 requests with (5xx) errors on a bucket',
      (c) => c.errors5xx,
    );
    new Gauge({
      name: 'minio_bucket_requests_ttfb_seconds_distribution',
      help: 'Distribution of time to first byte across API calls per bucket',
      labelNames: ['api', 'bucket', 'le'],
      registers,
      collect() {
        this.reset();
        for (const [bucket, b] of buckets())
          for (const c of b.apis.values()) TTFB_LE.forEach((le, i) => this.set({ api: c.api, bucket, le }, c.ttfb[i]));
      },
    });
    const traffic = (name: string, help: string, value: (b: BucketCounts) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['bucket'],
        registers,
        collect() {
          this.reset();
          for (const [bucket, b] of buckets()) this.inc({ bucket }, value(b));
        },
      });
    traffic(
      'minio_bucket_traffic_received_bytes',
      'Total number of S3 bytes received for this bucket',
      (b) => b.received,
    );
    traffic('minio_bucket_traffic_sent_bytes', 'Total number of S3 bytes sent for this bucket', (b) => b.sent);
  }

  /** Usage per bucket from the data usage walk (the endpoint's process walks; the series are not summed). */
  private async usageSeries(): Promise<Registry> {
    const registry = new Registry();
    const usage = await this.usage?.(USAGE_MAX_AGE_MS);
    if (!usage) return registry;
    const registers = [registry];
    const perBucket = (name: string, help: string) => new Gauge({ name, help, labelNames: ['bucket'], registers });
    const bytes = perBucket('minio_bucket_usage_total_bytes', 'Total bucket size in bytes');
    const objects = perBucket('minio_bucket_usage_object_total', 'Total number of objects');
    const versions = perBucket('minio_bucket_usage_version_total', 'Total number of versions (not delete markers)');
    const markers = perBucket('minio_bucket_usage_deletemarker_total', 'Total number of delete markers');
    // MinIO's bucket dashboard shows how old the usage is (getBucketUsageMetrics: nanoseconds, no labels).
    new Gauge({
      name: 'minio_bucket_usage_last_activity_nano_seconds',
      help: 'Time elapsed (in nano seconds) since last scan activity',
      registers,
    }).set((Date.now() - Date.parse(usage.lastUpdate)) * 1e6);
    const sizes = new Gauge({
      name: 'minio_bucket_objects_size_distribution',
      help: 'Distribution of object sizes in the bucket, includes label for the bucket name',
      labelNames: ['bucket', 'range'],
      registers,
    });
    // Each bucket's hard quota, where it has one (MinIO's minio_bucket_usage_quota_total_bytes).
    const quotas = perBucket('minio_bucket_usage_quota_total_bytes', 'Total bucket quota size in bytes');
    await Promise.all(
      Object.keys(usage.bucketsUsageInfo).map(async (bucket) => {
        const config = await this.storage.getBucketConfig(bucket).catch(() => undefined);
        const quota = storedQuota(config?.quota);
        if (quota) quotas.set({ bucket }, quotaLimit(quota));
      }),
    );
    for (const [bucket, u] of Object.entries(usage.bucketsUsageInfo)) {
      bytes.set({ bucket }, u.size);
      objects.set({ bucket }, u.objectsCount);
      versions.set({ bucket }, u.versionsCount);
      markers.set({ bucket }, u.deleteMarkersCount);
      for (const [range] of SIZE_RANGES) sizes.set({ bucket, range }, u.objectsSizesHistogram[range] ?? 0);
    }
    return registry;
  }

  /**
   * Each notification target's queue and counters, by MinIO's labels (target_id, target_name: the ARN's type).
   * MinIO's names where MinIO has the series: total_events (events handed to the target), failed_events (those
   * that could not be queued: MinIO's meaning, as its Save failing), queue_length; Cairn's own for the
   * delivery side: delivered events and failed send attempts (each retried). Each worker counts its own queue;
   * the scrape sums them.
   */
  private defineNotifySeries(): void {
    const registers = [this.registry];
    const status = () => this.notifyStatus();
    const labelNames = ['target_id', 'target_name'];
    const labels = (s: TargetStatus) => ({ target_id: s.id, target_name: s.type });
    const perTarget = (name: string, help: string, value: (s: TargetStatus) => number) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const s of status()) this.inc(labels(s), value(s));
        },
      });
    perTarget(
      'minio_notify_target_total_events',
      'Total number of events sent (or) queued to the target',
      (s) => s.accepted + s.notQueued,
    );
    perTarget(
      'minio_notify_target_failed_events',
      'Number of events failed to be sent (or) queued to the target',
      (s) => s.notQueued,
    );
    new Gauge({
      name: 'minio_notify_target_queue_length',
      help: 'Number of events currently staged in the queue_dir configured for the target',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const s of status()) this.set(labels(s), s.queued);
      },
    });
    // The queue's lag (MinIO has no such series): the oldest event waiting, the largest over the workers.
    new Gauge({
      name: 'cairn_notify_target_oldest_event_age_seconds',
      help: 'Seconds since the oldest event waiting in the queue for the target was queued (0: none waits)',
      labelNames,
      registers,
      aggregator: 'max',
      collect() {
        this.reset();
        const now = Date.now();
        for (const s of status()) this.set(labels(s), ageSeconds(now, s.oldestAt));
      },
    });
    perTarget('cairn_notify_target_delivered_events', 'Events the target has taken', (s) => s.delivered);
    perTarget(
      'cairn_notify_target_failed_sends',
      'Delivery attempts to the target that failed (the event stays queued and is sent again)',
      (s) => s.failedAttempts,
    );
  }

  /** Drive and capacity gauges, probed now. */
  private async storageSeries(scope: MetricsScope): Promise<Registry> {
    const registry = new Registry();
    const registers = [registry];
    const sets = await this.storage.storageState();
    const drives = sets.flatMap((s) => s.drives);
    const online = drives.filter((d) => d.online);
    const gauge = (name: string, help: string, value: number) => new Gauge({ name, help, registers }).set(value);
    const where = scope === 'cluster' ? 'cluster' : 'node';
    gauge(`minio_${where}_drive_online_total`, `Total drives online in this ${where}`, online.length);
    gauge(`minio_${where}_drive_offline_total`, `Total drives offline in this ${where}`, drives.length - online.length);
    gauge(`minio_${where}_drive_total`, `Total drives in this ${where}`, drives.length);
    // The background healing and its scanner (the leader's counts, whichever process answers), MinIO's names.
    const heal = await this.storage.backgroundHealState?.().catch(() => undefined);
    if (heal) {
      const healGauge = (name: string, help: string, value: number) =>
        new Gauge({ name, help, labelNames: ['type'], registers }).set({ type: 'object' }, value);
      healGauge('minio_heal_objects_total', 'Objects scanned by the background healing', heal.scannedObjects);
      healGauge('minio_heal_objects_heal_total', 'Objects healed by the background healing', heal.healedObjects);
      healGauge('minio_heal_objects_errors_total', 'Objects the background healing could not heal', heal.failedObjects);
      gauge('minio_node_scanner_objects_scanned', 'Objects scanned since the server started', heal.scannedObjects);
      gauge('cairn_scanner_cycles_total', 'Full cycles of the scanner since the server started', heal.scanCycles);
      gauge('cairn_heal_queue_length', 'Objects waiting for the background healing', heal.queued);
      gauge('cairn_heal_drives_healing', 'Drives being rebuilt in full', heal.healingDrives.length);
      if (heal.lastScanEnd)
        gauge(
          'minio_node_scanner_last_activity_seconds',
          'Seconds since the scanner last ended a cycle',
          Math.max(0, (Date.now() - Date.parse(heal.lastScanEnd)) / 1000),
        );
    }
    if (scope === 'node') {
      // Each of this node's drives' file system, MinIO's node drive series (labelled by the drive's path).
      const local = drives.filter((d) => d.local);
      const perDrive = (name: string, help: string, value: (d: (typeof drives)[number]) => number) => {
        const g = new Gauge({ name, help, labelNames: ['drive'], registers });
        for (const d of local) g.set({ drive: d.path }, value(d));
      };
      perDrive('minio_node_drive_total_bytes', 'Total storage on a drive', (d) => d.totalBytes);
      perDrive('minio_node_drive_used_bytes', 'Total storage used on a drive', (d) => d.usedBytes);
      perDrive('minio_node_drive_free_bytes', 'Total storage available on a drive', (d) => d.freeBytes);
    }
    if (scope === 'cluster') {
      // MinIO's cluster health (cmd/metrics-v2.go getClusterHealthMetrics), as /minio/health/cluster judges it:
      // healthy while every erasure set has its write quorum of drives online. Sets by pool and index in it.
      const setOnline = (s: (typeof sets)[number]) => s.drives.filter((d) => d.online).length;
      gauge(
        'minio_cluster_write_quorum',
        'Maximum write quorum across all pools and sets',
        Math.max(0, ...sets.map((s) => s.writeQuorum)),
      );
      gauge(
        'minio_cluster_health_status',
        'Get current cluster health status',
        sets.every((s) => setOnline(s) >= s.writeQuorum) ? 1 : 0,
      );
      const inPool = new Map<number, number>();
      const labels = sets.map((s) => {
        const pool = s.pool ?? 0;
        const set = inPool.get(pool) ?? 0;
        inPool.set(pool, set + 1);
        return { pool: String(pool), set: String(set) };
      });
      const perSet = (name: string, help: string, value: (s: (typeof sets)[number]) => number) => {
        const g = new Gauge({ name, help, labelNames: ['pool', 'set'], registers });
        sets.forEach((s, i) => g.set(labels[i], value(s)));
      };
      perSet('minio_cluster_health_erasure_set_status', 'Get current health status for this erasure set', (s) =>
        setOnline(s) >= s.writeQuorum ? 1 : 0,
      );
      perSet('minio_cluster_health_erasure_set_read_quorum', 'Get the read quorum for this erasure set', (s) => s.data);
      perSet(
        'minio_cluster_health_erasure_set_write_quorum',
        'Get the write quorum for this erasure set',
        (s) => s.writeQuorum,
      );
      perSet(
        'minio_cluster_health_erasure_set_online_drives',
        'Get the count of the online drives in this erasure set',
        setOnline,
      );
      perSet(
        'minio_cluster_health_erasure_set_healing_drives',
        'Get the count of healing drives of this erasure set',
        (s) => s.drives.filter((d) => d.online && d.healing).length,
      );
      // Raw: the file systems of the online drives (drives sharing one file system count it each time, as
      // MinIO counts them). Usable: the data shards' share of each set.
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const usable = (pick: (d: (typeof drives)[number]) => number) =>
        sum(sets.map((s) => (sum(s.drives.filter((d) => d.online).map(pick)) * s.data) / (s.data + s.parity)));
      gauge(
        'minio_cluster_capacity_raw_total_bytes',
        'Total capacity online in the cluster',
        sum(online.map((d) => d.totalBytes)),
      );
      gauge(
        'minio_cluster_capacity_raw_free_bytes',
        'Total free capacity online in the cluster',
        sum(online.map((d) => d.freeBytes)),
      );
      gauge(
        'minio_cluster_capacity_usable_total_bytes',
        'Total usable capacity online in the cluster',
        usable((d) => d.totalBytes),
      );
      gauge(
        'minio_cluster_capacity_usable_free_bytes',
        'Total free usable capacity online in the cluster',
        usable((d) => d.freeBytes),
      );
    }
    return registry;
  }
}

/** The cluster usage series (the cluster endpoint's only), and the one that says how old they are. */
const USAGE_AGE = 'minio_usage_last_activity_nano_seconds';
/** A queue's lag in seconds: since `oldestAt` (ms), 0 when nothing waits. */
const ageSeconds = (now: number, oldestAt: number | undefined): number =>
  oldestAt === undefined ? 0 : Math.max(0, (now - oldestAt) / 1000);

/** The pseudo-series carrying each process's queue rows to the one answering the admin listing (never rendered). */
const QUEUE_ROWS = 'cairn_queue_rows';

const CLUSTER_USAGE = new Set([
  USAGE_AGE,
  'minio_cluster_usage_total_bytes',
  'minio_cluster_usage_object_total',
  'minio_cluster_usage_version_total',
  'minio_cluster_usage_deletemarker_total',
  'minio_cluster_bucket_total',
  'minio_cluster_objects_size_distribution',
]);

/**
 * MinIO's cluster usage series (cmd/metrics-v2.go getClusterUsageMetrics) of one usage count: totals over the
 * buckets, the count's age in nanoseconds, and the objects by MinIO's size ranges.
 */
function clusterUsage(usage: DataUsage): Registry {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, value: number) => new Gauge({ name, help, registers }).set(value);
  gauge(
    USAGE_AGE,
    'Time elapsed (in nano seconds) since last scan activity',
    (Date.now() - Date.parse(usage.lastUpdate)) * 1e6,
  );
  gauge('minio_cluster_usage_total_bytes', 'Total cluster usage in bytes', usage.objectsTotalSize);
  gauge('minio_cluster_usage_object_total', 'Total number of objects in a cluster', usage.objectsCount);
  gauge(
    'minio_cluster_usage_version_total',
    'Total number of versions (not delete markers) in a cluster',
    usage.versionsCount,
  );
  gauge(
    'minio_cluster_usage_deletemarker_total',
    'Total number of delete markers in a cluster',
    usage.deleteMarkersCount,
  );
  gauge('minio_cluster_bucket_total', 'Total number of buckets in the cluster', usage.bucketsCount);
  const sizes = new Gauge({
    name: 'minio_cluster_objects_size_distribution',
    help: 'Distribution of object sizes across a cluster',
    labelNames: ['range'],
    registers,
  });
  for (const [range] of SIZE_RANGES) {
    let n = 0;
    for (const u of Object.values(usage.bucketsUsageInfo)) n += u.objectsSizesHistogram[range] ?? 0;
    sizes.set({ range }, n);
  }
  return registry;
}

/**
 * Each process's series with the cluster usage series left out but for the process whose usage count is the
 * newest (the leader counts after each scanner cycle; another may have counted for an admin call since): the
 * scrape shows one count, not a sum of several.
 */
function freshestUsage(gathered: MetricsJson[]): MetricsJson[] {
  let best = -1;
  let bestAge = Number.POSITIVE_INFINITY;
  gathered.forEach((series, i) => {
    const age = series.find((m) => m.name === USAGE_AGE)?.values[0]?.value;
    if (age !== undefined && age < bestAge) {
      best = i;
      bestAge = age;
    }
  });
  return gathered.map((series, i) => (i === best ? series : series.filter((m) => !CLUSTER_USAGE.has(m.name))));
}

/** The counts of `operation` in `apis`, made on first use. */
function apiCounts(apis: Map<string, ApiCounts>, operation: string): ApiCounts {
  let counts = apis.get(operation);
  if (!counts) {
    counts = new ApiCounts(apiLabel(operation));
    apis.set(operation, counts);
  }
  return counts;
}
