// A bucket's settings over S3's subresources: versioning, policy (JSON), CORS and tags (XML).
import { ApiError, call } from './client.js';
import { all, buildXml, childText, parseXml, text } from './xml.js';

/** undefined when the bucket has no such configuration (S3's NoSuch... answers). */
async function readOptional(bucket: string, sub: string, missing: string): Promise<string | undefined> {
  try {
    return await (await call({ bucket, query: [[sub, '']] })).text();
  } catch (e) {
    if (e instanceof ApiError && e.code === missing) return undefined;
    throw e;
  }
}

/** '' (never set), 'Enabled' or 'Suspended'. */
export async function getVersioning(bucket: string): Promise<string> {
  return text(parseXml(await (await call({ bucket, query: [['versioning', '']] })).text()), 'Status');
}

export async function putVersioning(bucket: string, status: 'Enabled' | 'Suspended'): Promise<void> {
  const body = buildXml('VersioningConfiguration', { Status: status });
  await call({ method: 'PUT', bucket, query: [['versioning', '']], body });
}

export async function getPolicy(bucket: string): Promise<string | undefined> {
  return readOptional(bucket, 'policy', 'NoSuchBucketPolicy');
}

export async function putPolicy(bucket: string, policy: string): Promise<void> {
  await call({ method: 'PUT', bucket, query: [['policy', '']], body: policy });
}

export async function deletePolicy(bucket: string): Promise<void> {
  await call({ method: 'DELETE', bucket, query: [['policy', '']] });
}

export interface CorsRule {
  origins: string[];
  methods: string[];
  headers: string[];
}

export async function getCors(bucket: string): Promise<CorsRule[]> {
  const xml = await readOptional(bucket, 'cors', 'NoSuchCORSConfiguration');
  if (xml === undefined) return [];
  return all(parseXml(xml), 'CORSRule').map((r) => ({
    origins: all(r, 'AllowedOrigin').map((e) => e.textContent ?? ''),
    methods: all(r, 'AllowedMethod').map((e) => e.textContent ?? ''),
    headers: all(r, 'AllowedHeader').map((e) => e.textContent ?? ''),
  }));
}

export async function putCors(bucket: string, rules: CorsRule[]): Promise<void> {
  if (rules.length === 0) {
    await call({ method: 'DELETE', bucket, query: [['cors', '']] });
    return;
  }
  const body = buildXml('CORSConfiguration', {
    CORSRule: rules.map((r) => ({ AllowedOrigin: r.origins, AllowedMethod: r.methods, AllowedHeader: r.headers })),
  });
  await call({ method: 'PUT', bucket, query: [['cors', '']], body });
}

export async function getTags(bucket: string): Promise<[string, string][]> {
  const xml = await readOptional(bucket, 'tagging', 'NoSuchTagSet');
  if (xml === undefined) return [];
  return all(parseXml(xml), 'Tag').map((t) => [childText(t, 'Key'), childText(t, 'Value')]);
}

export async function putTags(bucket: string, tags: [string, string][]): Promise<void> {
  if (tags.length === 0) {
    await call({ method: 'DELETE', bucket, query: [['tagging', '']] });
    return;
  }
  const body = buildXml('Tagging', { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } });
  await call({ method: 'PUT', bucket, query: [['tagging', '']], body });
}
