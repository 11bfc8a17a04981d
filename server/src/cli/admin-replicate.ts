// `cairn admin replicate add|ls|rm`: a bucket's replication targets through MinIO's admin remote-target API
// (api/replication/admin.ts), the calls `mc admin bucket remote` makes. The target's secret goes encrypted
// with the caller's secret and never comes back.
import { adminCall, bucketCall, type AdminTarget } from './admin-client.js';
import { options } from './admin.js';
import { progressBar } from './admin-heal.js';

export const REPLICATE_USAGE = `  replicate add SRC_BUCKET TARGET_URL TARGET_BUCKET --access-key AK --secret-key SK [--region R]
                                [--storage-class SC]   add a replication target; prints its ARN, which a
                                                       bucket's ReplicationConfiguration names
  replicate ls [SRC_BUCKET] | replicate rm SRC_BUCKET ARN
  replicate resync SRC_BUCKET ARN [--older-than 720h]   replicate again what the bucket holds (a rule with
                                                       ExistingObjectReplication Enabled names the target)
  replicate status [SRC_BUCKET]  each replication target's queue: changes waiting, lag, replicated, retries
  replicate resync-status SRC_BUCKET [ARN] [--watch]    progress of the bucket's resyncs (--watch follows
                                                       ARN's to its end)
`;

type Row = Record<string, string>;
type Result = { rows?: Row[]; columns?: string[]; value?: unknown; done?: string };

/** `http(s)://host[:port]` as madmin's endpoint (host[:port]) and its `secure` flag. */
function endpointOf(raw: string): { endpoint: string; secure: boolean } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`TARGET_URL must be http(s)://host[:port], not ${raw}`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || (u.pathname !== '/' && u.pathname !== ''))
    throw new Error(`TARGET_URL must be http(s)://host[:port], not ${raw}`);
  return { endpoint: u.host, secure: u.protocol === 'https:' };
}

export async function replicateCommand(
  t: AdminTarget,
  verb: string | undefined,
  args: string[],
  asJson = false,
): Promise<Result> {
  const watch = verb === 'resync-status' && args.includes('--watch');
  const { rest, opts } = options(
    args.filter((a) => !watch || a !== '--watch'),
    ['access-key', 'secret-key', 'region', 'storage-class', 'older-than'],
  );
  switch (verb) {
    case 'add': {
      const [bucket, url, targetBucket] = rest;
      if (!bucket || !url || !targetBucket)
        throw new Error('expected: replicate add SRC_BUCKET TARGET_URL TARGET_BUCKET');
      if (!opts['access-key'] || !opts['secret-key'])
        throw new Error('replicate add needs --access-key and --secret-key');
      const body = {
        sourcebucket: bucket,
        ...endpointOf(url),
        credentials: { accessKey: opts['access-key'], secretKey: opts['secret-key'] },
        targetbucket: targetBucket,
        type: 'replication',
        region: opts.region ?? '',
        ...(opts['storage-class'] ? { storageclass: opts['storage-class'] } : {}),
      };
      const arn = await adminCall(t, {
        method: 'PUT',
        path: 'set-remote-target',
        query: { bucket },
        body,
        encrypt: true,
      });
      return { done: String(arn) };
    }
    case 'ls':
    case 'list': {
      const targets = (await adminCall(t, {
        method: 'GET',
        path: 'list-remote-targets',
        query: { bucket: rest[0] ?? '', type: 'replication' },
      })) as Record<string, unknown>[];
      const rows = targets.map((x) => ({
        bucket: String(x.sourcebucket),
        target: `${x.secure ? 'https' : 'http'}://${x.endpoint}/${x.targetbucket}`,
        accessKey: String((x.credentials as Row | undefined)?.accessKey ?? ''),
        arn: String(x.arn),
      }));
      return { rows, columns: ['bucket', 'target', 'accessKey', 'arn'], value: targets };
    }
    case 'rm':
    case 'remove': {
      const [bucket, arn] = rest;
      if (!bucket || !arn) throw new Error('expected: replicate rm SRC_BUCKET ARN');
      await adminCall(t, { method: 'DELETE', path: 'remove-remote-target', query: { bucket, arn } });
      return { done: `replication target ${arn} removed` };
    }
    case 'resync': {
      const [bucket, arn] = rest;
      if (!bucket || !arn) throw new Error('expected: replicate resync SRC_BUCKET ARN');
      const query: Record<string, string> = { 'replication-reset': '', arn };
      if (opts['older-than']) query['older-than'] = opts['older-than'];
      const out = (await bucketCall(t, bucket, { method: 'PUT', query })) as { target?: { resetid?: string }[] };
      return { done: `resync ${out.target?.[0]?.resetid ?? ''} started`, value: out };
    }
    case 'resync-status': {
      const [bucket, arn] = rest;
      if (!bucket) throw new Error('expected: replicate resync-status SRC_BUCKET [ARN] [--watch]');
      if (watch && !arn) throw new Error('replicate resync-status --watch needs ARN');
      const query: Record<string, string> = { 'replication-reset-status': '' };
      if (arn) query.arn = arn;
      const one = async () => (await bucketCall(t, bucket, { method: 'GET', query })) as { target?: Resync[] };
      const out = watch ? await followResync(one, process.stderr.isTTY === true && !asJson) : await one();
      const rows = (out.target ?? []).map(resyncRow);
      return { rows, columns: ['arn', 'status', 'progress', 'replicated', 'bytes', 'failed'], value: out };
    }
    default:
      throw new Error('expected: replicate add|ls|rm|status|resync|resync-status');
  }
}

/** One target's resync as ?replication-reset-status answers it (api/replication/resync.ts ResyncProgress). */
interface Resync {
  arn: string;
  resyncStatus: string;
  replicationCount: number;
  completedReplicationSize: number;
  failedReplicationCount: number;
  failedReplicationSize: number;
  queued: number;
  walked: boolean;
  total?: number;
  totalSize?: number;
}

/** How often `--watch` asks. */
const WATCH_MS = 500;

async function followResync(one: () => Promise<{ target?: Resync[] }>, tty: boolean): Promise<{ target?: Resync[] }> {
  for (;;) {
    const out = await one();
    const r = out.target?.[0];
    if (tty && r) process.stderr.write(`\r${resyncRow(r).progress} ${r.resyncStatus}`);
    if (r?.resyncStatus !== 'Ongoing') {
      if (tty) process.stderr.write('\n');
      return out;
    }
    await new Promise((res) => setTimeout(res, WATCH_MS));
  }
}

function resyncRow(x: Resync): Row {
  const done = x.replicationCount + x.failedReplicationCount;
  // Counted before the walk; the walk's own count once it has ended (versions written meanwhile included).
  const total = x.walked ? x.queued : x.total;
  return {
    arn: x.arn,
    status: x.resyncStatus,
    progress: total === undefined ? '' : progressBar(done, Math.max(total, done)),
    replicated: String(x.replicationCount),
    bytes:
      x.totalSize === undefined ? String(x.completedReplicationSize) : `${x.completedReplicationSize}/${x.totalSize}`,
    failed: String(x.failedReplicationCount),
  };
}
