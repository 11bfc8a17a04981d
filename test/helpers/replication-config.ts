// Configuring bucket replication on a Cairn server as a client does: a versioned bucket, a remote target added
// through MinIO's admin API (its ARN), and a rule that replicates everything to it. No vitest here: the
// replication bench (bench/replication/) uses these too.
import {
  CreateBucketCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  type ReplicationConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { ROOT } from './users.js';

type Rule = NonNullable<ReplicationConfiguration['Rules']>[number];

export async function versionedBucket(s3: S3Client, Bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

/**
 * Adds `endpoint` (host:port, plain HTTP) / `targetBucket` as a replication target of `bucket` on the server at
 * `url`: its ARN. `creds`: the target's credentials; `admin`: who asks on the source (both: the tests' root).
 */
export async function remoteTarget(
  url: string,
  bucket: string,
  endpoint: string,
  targetBucket: string,
  creds = ROOT,
  admin = ROOT,
): Promise<string> {
  const arn = await adminCall(
    { endpoint: url, ...admin, region: 'us-east-1' },
    {
      method: 'PUT',
      path: 'set-remote-target',
      query: { bucket },
      body: {
        sourcebucket: bucket,
        endpoint,
        secure: false,
        credentials: creds,
        targetbucket: targetBucket,
        type: 'replication',
      },
      encrypt: true,
    },
  );
  return String(arn);
}

/** One rule replicating every object of the bucket to `arn` (delete markers too), changed by `extra`. */
export function rule(arn: string, extra: Partial<Rule> = {}) {
  return {
    ID: 'all',
    Priority: 1,
    Status: 'Enabled' as const,
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: 'Enabled' as const },
    Destination: { Bucket: arn },
    ...extra,
  };
}

export async function replicateAll(s3: S3Client, Bucket: string, arn: string, extra: Partial<Rule> = {}) {
  await s3.send(
    new PutBucketReplicationCommand({
      Bucket,
      ReplicationConfiguration: { Role: '', Rules: [rule(arn, extra)] },
    }),
  );
}
