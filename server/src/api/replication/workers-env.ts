// CAIRN_API_REPLICATION_MAX_WORKERS, on its own so that the CLI (and a cluster's primary, which serves nothing)
// checks it without loading the replicator and the storage engine behind it.

/** Senders per target (MinIO: MINIO_API_REPLICATION_MAX_WORKERS, per node over all targets, 1 to 500). */
export const DEFAULT_REPLICATION_WORKERS = 8;
export const MAX_REPLICATION_WORKERS = 500;
/** CAIRN_API_REPLICATION_MAX_WORKERS of `env` (a whole number, 1 to 500), or undefined when unset. */
export function replicationWorkersFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.CAIRN_API_REPLICATION_MAX_WORKERS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_REPLICATION_WORKERS)
    throw new Error(`CAIRN_API_REPLICATION_MAX_WORKERS must be a whole number from 1 to 500, got '${v.slice(0, 40)}'`);
  return n;
}
