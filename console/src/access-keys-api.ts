// The logged-in identity's own access keys (MinIO's service accounts) through the admin API, as `mc admin
// accesskey` manages them: listed, made (the secret shown once), switched off and on, deleted. The bodies and
// answers that carry secrets are sealed with the session's secret key (madmin.ts).
import { call, sessionOrLogin } from './client.js';
import { decryptData, encryptData } from './madmin.js';

export interface AccessKey {
  accessKey: string;
  name?: string;
  description?: string;
  /** 'on' or 'off' */
  accountStatus: string;
  /** Its own policy narrows the user's rights (false: it has all of them). */
  impliedPolicy: boolean;
  /** ISO time, or absent / the zero time when it never expires. */
  expiration?: string;
}

const admin = (name: string) => `admin/v3/${name}`;

async function sealed(value: unknown): Promise<Uint8Array> {
  return encryptData(sessionOrLogin().secretAccessKey, new TextEncoder().encode(JSON.stringify(value)));
}

async function opened<T>(res: Response): Promise<T> {
  const plain = await decryptData(sessionOrLogin().secretAccessKey, new Uint8Array(await res.arrayBuffer()));
  return JSON.parse(new TextDecoder().decode(plain)) as T;
}

export async function listAccessKeys(): Promise<AccessKey[]> {
  const res = await call({ bucket: 'minio', key: admin('list-service-accounts') });
  return (await opened<{ accounts: AccessKey[] | null }>(res)).accounts ?? [];
}

export interface NewAccessKey {
  name: string;
  description: string;
  /** ISO time, or '' for none. */
  expiration: string;
  /** A policy document narrowing the key, or '' for all of the user's rights. */
  policy: string;
}

/** Makes a key; its secret is in this answer only. */
export async function createAccessKey(k: NewAccessKey): Promise<{ accessKey: string; secretKey: string }> {
  const body: Record<string, unknown> = {};
  if (k.name) body.name = k.name;
  if (k.description) body.description = k.description;
  if (k.expiration) body.expiration = k.expiration;
  if (k.policy) body.policy = JSON.parse(k.policy) as unknown;
  const res = await call({
    method: 'PUT',
    bucket: 'minio',
    key: admin('add-service-account'),
    body: await sealed(body),
  });
  return (await opened<{ credentials: { accessKey: string; secretKey: string } }>(res)).credentials;
}

export async function setAccessKeyStatus(accessKey: string, on: boolean): Promise<void> {
  await call({
    method: 'POST',
    bucket: 'minio',
    key: admin('update-service-account'),
    query: [['accessKey', accessKey]],
    body: await sealed({ newStatus: on ? 'on' : 'off' }),
  });
}

export async function deleteAccessKey(accessKey: string): Promise<void> {
  await call({
    method: 'DELETE',
    bucket: 'minio',
    key: admin('delete-service-account'),
    query: [['accessKey', accessKey]],
  });
}
