// MinIO's admin API (GET /minio/admin/v3/...), signed for s3 as madmin-go signs it: what the dashboard reads.
import { call, isDenied } from './client.js';

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

/** Whether this identity may read the server's information (the Dashboard shows only then). */
export async function mayReadServerInfo(): Promise<boolean> {
  try {
    await serverInfo();
    return true;
  } catch (e) {
    if (isDenied(e)) return false;
    throw e;
  }
}
