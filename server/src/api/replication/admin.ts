// MinIO's admin API for a bucket's replication targets, as madmin-go (`mc admin bucket remote`, `mc replicate
// add`) and `cairn admin replicate` call it:
//   PUT    /minio/admin/v3/set-remote-target?bucket=B[&update=true&creds=true]   body: BucketTarget, encrypted
//                                                     with the signer's secret; answers the target's ARN (JSON)
//   GET    /minio/admin/v3/list-remote-targets?bucket=B&type=replication     the targets, secrets left out
//   DELETE /minio/admin/v3/remove-remote-target?bucket=B&arn=ARN
// Changes need admin:SetBucketTarget, listing admin:GetBucketTarget, as MinIO checks them. A new target is
// probed first (its bucket exists, the credentials reach it, its versioning is Enabled, as is the source's).
import { S3Error } from '../../errors.js';
import type { BucketConfig } from '../../storage/object-layer.js';
import { bucketSettings } from '../bucket-settings.js';
import type { ApiContext, S3Response } from '../types.js';
import { parseReplicationConfiguration } from './config.js';
import { ReplicationRemote } from './remote.js';
import { isTargetArn, listedTarget, parseBucketTarget, storedTargets, targetsDocument } from './targets.js';

export interface TargetCall {
  ctx: ApiContext;
  method: string;
  /** The path after /minio/admin/v3/. */
  path: string;
  q: URLSearchParams;
  /** The request's Host header (a target at this very address and bucket is the source itself). */
  host: string;
  decrypted(): Promise<Record<string, unknown>>;
  authorize(action: string): void;
}

const PATHS = new Set(['set-remote-target', 'list-remote-targets', 'remove-remote-target']);
export const isReplicationTargetPath = (path: string): boolean => PATHS.has(path);

const json = (value: unknown): S3Response => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

/** One change of a bucket's targets at a time in this process (read, change, write). */
let changing: Promise<unknown> = Promise.resolve();
function serially<T>(fn: () => Promise<T>): Promise<T> {
  const run = changing.then(fn);
  changing = run.catch(() => {});
  return run;
}

export async function replicationTargetAdmin(c: TargetCall): Promise<S3Response> {
  const { ctx } = c;
  const sealer = ctx.iam!.sealer;
  const bucket = c.q.get('bucket') ?? '';
  switch (c.path) {
    case 'list-remote-targets': {
      if (c.method !== 'GET') throw new S3Error('MethodNotAllowed');
      c.authorize('admin:GetBucketTarget');
      const type = c.q.get('type') ?? '';
      if (type !== '' && type !== 'replication') return json([]);
      const buckets = bucket !== '' ? [bucket] : (await ctx.storage.listBuckets()).map((b) => b.name);
      const out: Record<string, unknown>[] = [];
      for (const b of buckets) {
        const { config } = await bucketSettings(ctx, b);
        out.push(...storedTargets(config, b, sealer).map(listedTarget));
      }
      return json(out);
    }
    case 'set-remote-target': {
      if (c.method !== 'PUT') throw new S3Error('MethodNotAllowed');
      c.authorize('admin:SetBucketTarget');
      const body = await c.decrypted();
      return serially(async () => {
        const { config } = await bucketSettings(ctx, bucket);
        const targets = storedTargets(config, bucket, sealer);
        if (c.q.get('update') === 'true') return json(await updateTarget(c, bucket, body, targets));
        const target = parseBucketTarget(body, bucket);
        if (target.endpoint.toLowerCase() === c.host.toLowerCase() && target.targetBucket === bucket)
          throw new S3Error('XMinioAdminRemoteIdenticalToSource');
        const same = targets.find(
          (t) =>
            t.endpoint === target.endpoint &&
            t.secure === target.secure &&
            t.targetBucket === target.targetBucket &&
            t.accessKey === target.accessKey,
        );
        if (same) return json(same.arn); // MinIO answers the existing target's ARN
        if (targets.some((t) => t.endpoint === target.endpoint))
          throw new S3Error('XMinioAdminBucketRemoteAlreadyExists');
        if (config.versioning !== 'Enabled') throw new S3Error('ReplicationSourceNotVersionedError');
        const remote = new ReplicationRemote(target);
        try {
          await remote.probe();
        } finally {
          remote.close();
        }
        await save(ctx, bucket, [...targets, target]);
        return json(target.arn);
      });
    }
    case 'remove-remote-target': {
      if (c.method !== 'DELETE') throw new S3Error('MethodNotAllowed');
      c.authorize('admin:SetBucketTarget');
      const arn = c.q.get('arn') ?? '';
      if (!isTargetArn(arn)) throw new S3Error('XMinioAdminRemoteArnInvalid');
      return serially(async () => {
        const { config } = await bucketSettings(ctx, bucket);
        const targets = storedTargets(config, bucket, sealer);
        if (!targets.some((t) => t.arn === arn)) throw new S3Error('XMinioAdminRemoteTargetNotFoundError');
        if (inUse(config, arn)) throw new S3Error('XMinioAdminRemoteRemoveDisallowed');
        await save(
          ctx,
          bucket,
          targets.filter((t) => t.arn !== arn),
        );
        return { status: 204, headers: {} };
      });
    }
    default:
      throw new S3Error('NotImplemented');
  }
}

function inUse(config: BucketConfig, arn: string): boolean {
  if (!config.replication) return false;
  return parseReplicationConfiguration(config.replication).rules.some((r) => r.targetArn === arn);
}

async function save(ctx: ApiContext, bucket: string, targets: ReturnType<typeof storedTargets>): Promise<void> {
  await ctx.storage.updateBucketConfig(bucket, {
    replicationTargets: targetsDocument(targets, bucket, ctx.iam!.sealer),
  });
}

/** `update=true`: MinIO's partial updates; new credentials (`creds=true`) are what Cairn takes, probed first. */
async function updateTarget(
  c: TargetCall,
  bucket: string,
  body: Record<string, unknown>,
  targets: ReturnType<typeof storedTargets>,
): Promise<string> {
  const arn = typeof body.arn === 'string' ? body.arn : '';
  const old = targets.find((t) => t.arn === arn);
  if (!old) throw new S3Error('XMinioAdminRemoteTargetNotFoundError');
  const ops = ['creds', 'sync', 'proxy', 'tls', 'healthcheck', 'bandwidth', 'path', 'edge'].filter(
    (k) => c.q.get(k) === 'true',
  );
  if (ops.some((k) => k !== 'creds'))
    throw new S3Error(
      'NotImplemented',
      `Only credentials of a replication target can be updated, not ${ops.join(', ')}`,
    );
  const next = { ...parseBucketTarget(body, bucket), arn: old.arn };
  const remote = new ReplicationRemote(next);
  try {
    await remote.probe();
  } finally {
    remote.close();
  }
  await save(
    c.ctx,
    bucket,
    targets.map((t) => (t.arn === arn ? next : t)),
  );
  return arn;
}
