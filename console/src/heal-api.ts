// Heal sequences through MinIO's admin API as `mc admin heal` and `cairn admin heal` run them
// (server/src/api/admin/heal.ts): a POST to heal/BUCKET/PREFIX starts one and answers a client token; a POST
// with the token answers its status and the results since the last poll; forceStop stops it. Needs admin:Heal.
import { call } from './client.js';

export interface HealItem {
  resultId: number;
  bucket: string;
  object: string;
  /** ok, healed, removed, or `failed: <reason>` */
  detail: string;
}

export interface HealStatus {
  summary: 'running' | 'finished' | 'stopped' | 'failed';
  detail: string;
  total: number;
  scanned: number;
  healed: number;
  failed: number;
  items: HealItem[];
}

/** The admin path of a sequence on `bucket` (every bucket when '') and `prefix`: the same for every poll. */
const pathOf = (bucket: string, prefix: string) => `admin/v3/heal/${bucket}${bucket ? `/${prefix}` : ''}`;

/** Starts a heal of every object under the bucket and prefix; its client token. */
export async function startHeal(bucket: string, prefix: string, deep: boolean): Promise<string> {
  const body = JSON.stringify({
    recursive: true,
    dryRun: false,
    remove: false,
    recreate: false,
    scanMode: deep ? 2 : 1,
  });
  const res = await call({ method: 'POST', bucket: 'minio', key: pathOf(bucket, prefix), body });
  return ((await res.json()) as { clientToken: string }).clientToken;
}

/** The sequence's status and the results it had not yet given. */
export async function healStatus(bucket: string, prefix: string, token: string): Promise<HealStatus> {
  const res = await call({
    method: 'POST',
    bucket: 'minio',
    key: pathOf(bucket, prefix),
    query: [['clientToken', token]],
  });
  const s = (await res.json()) as HealStatus;
  return { ...s, items: s.items ?? [] };
}

export async function stopHeal(bucket: string, prefix: string): Promise<void> {
  await call({ method: 'POST', bucket: 'minio', key: pathOf(bucket, prefix), query: [['forceStop', 'true']] });
}

/** madmin.BgHealState: the background healing's counts (Cairn's under `cairn`) and each set's drives. */
export interface BackgroundHeal {
  ScannedItemsCount: number;
  sets: { id: string; disks: { endpoint: string; state: string; healing?: boolean }[] }[];
  cairn?: { healedObjects: number; failedObjects: number; queued: number; scanCycles: number; lastScanEnd?: string };
}

export async function backgroundHeal(): Promise<BackgroundHeal> {
  const res = await call({ method: 'POST', bucket: 'minio', key: 'admin/v3/background-heal/status' });
  return (await res.json()) as BackgroundHeal;
}
