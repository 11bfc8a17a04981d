// `cairn admin tier add|ls|edit|verify|rm`: remote tiers through MinIO's admin tier API (api/tier/admin.ts),
// the calls `mc ilm tier` makes. Secrets go encrypted with the caller's secret and never come back.
import { adminCall, type AdminTarget } from './admin-client.js';
import { options } from './admin.js';

export const TIER_USAGE = `  tier add NAME URL BUCKET PREFIX --access-key AK --secret-key SK [--region R] [--type s3|minio]
                                [--storage-class SC] [--force]   add a remote tier (another S3 endpoint)
  tier ls | tier verify NAME | tier edit NAME --access-key AK --secret-key SK | tier rm NAME [--force]
  tier info                     what each tier holds (STANDARD: the drives): objects, versions, bytes
`;

type Row = Record<string, string>;
type Result = { rows?: Row[]; columns?: string[]; value?: unknown; done?: string };

export async function tierCommand(t: AdminTarget, verb: string | undefined, args: string[]): Promise<Result> {
  const force = args.includes('--force');
  const { rest, opts } = options(
    args.filter((a) => a !== '--force'),
    ['access-key', 'secret-key', 'region', 'type', 'storage-class'],
  );
  const name = rest[0];
  const needName = () => {
    if (!name) throw new Error('missing NAME');
    return encodeURIComponent(name);
  };
  switch (verb) {
    case 'add': {
      const [, endpoint, bucket, prefix] = rest;
      if (!name || !endpoint || !bucket) throw new Error('expected: tier add NAME URL BUCKET PREFIX');
      if (!opts['access-key'] || !opts['secret-key']) throw new Error('tier add needs --access-key and --secret-key');
      const type = opts.type ?? 'minio';
      const section = {
        Endpoint: endpoint,
        AccessKey: opts['access-key'],
        SecretKey: opts['secret-key'],
        Bucket: bucket,
        Prefix: prefix ?? '',
        Region: opts.region ?? '',
        ...(opts['storage-class'] ? { StorageClass: opts['storage-class'] } : {}),
      };
      const body = { Version: 'v1', Type: type, Name: name, ...(type === 's3' ? { S3: section } : { MinIO: section }) };
      await adminCall(t, { method: 'PUT', path: 'tier', query: { force: String(force) }, body, encrypt: true });
      return { done: `tier ${name} added` };
    }
    case 'ls':
    case 'list': {
      const tiers = (await adminCall(t, { method: 'GET', path: 'tier' })) as Record<string, unknown>[];
      const rows = tiers.map((x) => {
        const s = (x.S3 ?? x.MinIO ?? {}) as Row;
        return {
          name: String(x.Name),
          type: String(x.Type),
          endpoint: s.Endpoint,
          bucket: s.Bucket,
          prefix: s.Prefix ?? '',
          region: s.Region ?? '',
        };
      });
      return { rows, columns: ['name', 'type', 'endpoint', 'bucket', 'prefix', 'region'], value: tiers };
    }
    case 'info': {
      type Stats = { totalSize: number; numVersions: number; numObjects: number };
      type Info = { Name: string; Type: string; Stats: Stats; DailyStats?: { Bins: Stats[] } };
      const infos = (await adminCall(t, { method: 'GET', path: 'tier-stats' })) as Info[];
      // The last day's transitions to the tier (MinIO's DailyStats, 24 hourly bins), summed.
      const day = (x: Info, f: keyof Stats) => String((x.DailyStats?.Bins ?? []).reduce((n, b) => n + b[f], 0));
      const rows = infos.map((x) => ({
        name: x.Name,
        type: x.Type,
        objects: String(x.Stats.numObjects),
        versions: String(x.Stats.numVersions),
        bytes: String(x.Stats.totalSize),
        'moved 24h': day(x, 'numVersions'),
        'bytes moved 24h': day(x, 'totalSize'),
      }));
      const columns = ['name', 'type', 'objects', 'versions', 'bytes', 'moved 24h', 'bytes moved 24h'];
      return { rows, columns, value: infos };
    }
    case 'verify':
      await adminCall(t, { method: 'GET', path: `tier/${needName()}` });
      return { done: `tier ${name} verified` };
    case 'edit': {
      if (!opts['access-key'] || !opts['secret-key']) throw new Error('tier edit needs --access-key and --secret-key');
      const body = { access: opts['access-key'], secret: opts['secret-key'] };
      await adminCall(t, { method: 'POST', path: `tier/${needName()}`, body, encrypt: true });
      return { done: `tier ${name} edited` };
    }
    case 'rm':
    case 'remove':
      await adminCall(t, { method: 'DELETE', path: `tier/${needName()}`, query: { force: String(force) } });
      return { done: `tier ${name} removed` };
    default:
      throw new Error('expected: tier add|ls|info|verify|edit|rm');
  }
}
