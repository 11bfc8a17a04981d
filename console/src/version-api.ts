// One object's versions (ListObjectVersions narrowed to its key), a version removed, and its object lock state:
// retention (mode and date) and legal hold, read and set per version. PUTs carry the checksum S3 wants.
import { ApiError, call, checksumHeader } from './client.js';
import { all, buildXml, childText, parseXml, text } from './xml.js';

export interface VersionEntry {
  versionId: string;
  latest: boolean;
  deleteMarker: boolean;
  modified: string;
  size: number;
}

/** The key's versions, newest first (at most 1,000: a page of ListObjectVersions). */
export async function listVersions(bucket: string, key: string): Promise<VersionEntry[]> {
  const query: [string, string][] = [
    ['versions', ''],
    ['prefix', key],
    ['max-keys', '1000'],
  ];
  const doc = parseXml(await (await call({ bucket, query })).text());
  const entries = [...all(doc, 'Version'), ...all(doc, 'DeleteMarker')]
    .filter((v) => childText(v, 'Key') === key)
    .map((v) => ({
      versionId: childText(v, 'VersionId'),
      latest: childText(v, 'IsLatest') === 'true',
      deleteMarker: v.tagName === 'DeleteMarker',
      modified: childText(v, 'LastModified'),
      size: Number(childText(v, 'Size') || 0),
    }));
  return entries.sort((a, b) => b.modified.localeCompare(a.modified) || Number(b.latest) - Number(a.latest));
}

export async function deleteVersion(bucket: string, key: string, versionId: string): Promise<void> {
  await call({ method: 'DELETE', bucket, key, query: [['versionId', versionId]] });
}

export interface LockState {
  /** '' when the version has no retention. */
  mode: string;
  until: string;
  legalHold: boolean;
}

/** A version's retention and legal hold (none of either: '' and false). */
export async function getLockState(bucket: string, key: string, versionId: string): Promise<LockState> {
  const read = async (sub: string, missing: string) => {
    try {
      return parseXml(
        await (
          await call({
            bucket,
            key,
            query: [
              [sub, ''],
              ['versionId', versionId],
            ],
          })
        ).text(),
      );
    } catch (e) {
      if (e instanceof ApiError && e.code === missing) return undefined;
      throw e;
    }
  };
  const retention = await read('retention', 'NoSuchObjectLockConfiguration');
  const hold = await read('legal-hold', 'NoSuchObjectLockConfiguration');
  return {
    mode: retention ? text(retention, 'Mode') : '',
    until: retention ? text(retention, 'RetainUntilDate') : '',
    legalHold: hold ? text(hold, 'Status') === 'ON' : false,
  };
}

/** Sets a version's retention until `until` (an ISO date); S3 refuses shortening a COMPLIANCE one. */
export async function putRetention(
  bucket: string,
  key: string,
  versionId: string,
  mode: string,
  until: string,
): Promise<void> {
  const body = buildXml('Retention', { Mode: mode, RetainUntilDate: until });
  const query: [string, string][] = [
    ['retention', ''],
    ['versionId', versionId],
  ];
  await call({ method: 'PUT', bucket, key, query, body, headers: await checksumHeader(body) });
}

export async function putLegalHold(bucket: string, key: string, versionId: string, on: boolean): Promise<void> {
  const body = buildXml('LegalHold', { Status: on ? 'ON' : 'OFF' });
  const query: [string, string][] = [
    ['legal-hold', ''],
    ['versionId', versionId],
  ];
  await call({ method: 'PUT', bucket, key, query, body, headers: await checksumHeader(body) });
}
