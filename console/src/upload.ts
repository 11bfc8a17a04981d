// Uploads with progress: XMLHttpRequest's upload events (fetch has none). Files over MULTIPART_THRESHOLD go
// as a multipart upload, one part at a time, each with its own progress; a failed one is aborted.
import { ApiError, checkExpired, sessionOrLogin } from './client.js';
import { abortMultipart, completeMultipart, startMultipart } from './s3.js';
import { encodePath, queryString, signHeaders } from './sigv4.js';
import { parseXml, text } from './xml.js';

export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
export const PART_SIZE = 16 * 1024 * 1024;

export interface Progress {
  /** Bytes of the whole file sent so far. */
  sent: number;
  total: number;
  /** The part being sent (1-based) and how many there are: 1 of 1 for a single PUT. */
  part: number;
  parts: number;
  /** Bytes of the current part sent, and its size. */
  partSent: number;
  partSize: number;
}

/** One signed PUT of `body` (payload unsigned: hashing gigabytes in the page first would be slow), with progress. */
async function put(
  bucket: string,
  key: string,
  body: Blob,
  query: [string, string][],
  type: string | undefined,
  onProgress: (sent: number) => void,
): Promise<string> {
  const s = sessionOrLogin();
  const path = encodePath(bucket, key);
  const headers = await signHeaders(s, {
    method: 'PUT',
    path,
    query,
    headers: type === undefined ? {} : { 'content-type': type },
    payloadHash: 'UNSIGNED-PAYLOAD',
    service: 's3',
    region: s.region,
    host: location.host,
  });
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', query.length ? `${path}?${queryString(query)}` : path);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr.getResponseHeader('etag') ?? '');
      const doc = parseXml(xhr.responseText);
      const code = text(doc, 'Code') || `HTTP${xhr.status}`;
      reject(checkExpired(new ApiError(code, text(doc, 'Message') || code, xhr.status)));
    };
    xhr.onerror = () => reject(new Error('The upload failed (network error).'));
    xhr.send(body);
  });
}

export async function upload(bucket: string, key: string, file: File, onProgress: (p: Progress) => void) {
  const type = file.type || 'application/octet-stream';
  const total = file.size;
  if (total <= MULTIPART_THRESHOLD) {
    const report = (sent: number) => onProgress({ sent, total, part: 1, parts: 1, partSent: sent, partSize: total });
    await put(bucket, key, file, [], type, report);
    report(total);
    return;
  }
  const parts = Math.ceil(total / PART_SIZE);
  const uploadId = await startMultipart(bucket, key, type);
  const etags: string[] = [];
  try {
    for (let n = 1; n <= parts; n++) {
      const start = (n - 1) * PART_SIZE;
      const chunk = file.slice(start, Math.min(start + PART_SIZE, total));
      const report = (partSent: number) =>
        onProgress({ sent: start + partSent, total, part: n, parts, partSent, partSize: chunk.size });
      const q: [string, string][] = [
        ['partNumber', String(n)],
        ['uploadId', uploadId],
      ];
      etags.push(await put(bucket, key, chunk, q, undefined, report));
      report(chunk.size);
    }
    await completeMultipart(bucket, key, uploadId, etags);
  } catch (e) {
    await abortMultipart(bucket, key, uploadId).catch(() => {});
    throw e;
  }
}
