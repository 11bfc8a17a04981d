// The raw GET baseline of a reader: the same byte ranges it needs, fetched by the load generator's lean
// client (bench/load/client.ts: keep-alive connections, bodies counted and dropped) on `concurrency`
// connections. What the server can deliver of those bytes when the client costs next to nothing.
import { S3Client, objectPath, type ClientConfig } from '../load/client.js';

/** [key, first, last]; last = -1: the whole object (a GET without Range). */
export type ByteRangeSpec = [key: string, first: number, last: number];

export interface RawResult {
  seconds: number;
  bytes: number;
  requests: number;
}

/**
 * Fetches `ranges`, `passes` times over (a short list would time too little to measure), on `concurrency`
 * connections; each answer's length is checked.
 */
export async function rawGet(
  cfg: ClientConfig & { bucket: string },
  once: ByteRangeSpec[],
  concurrency: number,
  passes = 1,
): Promise<RawResult> {
  const ranges = Array.from({ length: passes }, () => once).flat();
  const client = new S3Client(cfg);
  const conns = Array.from({ length: Math.min(concurrency, ranges.length) }, () => client.connect());
  await Promise.all(conns.map((c) => c.warmUp()));
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  try {
    await Promise.all(
      conns.map(async (conn) => {
        for (let i = next++; i < ranges.length; i = next++) {
          const [key, first, last] = ranges[i];
          const range = last < 0 ? undefined : `bytes=${first}-${last}`;
          const res = await conn.request({ method: 'GET', path: objectPath(cfg.bucket, key), range });
          const want = last < 0 ? -1 : last - first + 1;
          if (res.status >= 300 || (want >= 0 && res.bytes !== want)) {
            throw new Error(
              `raw GET ${key} ${range ?? ''}: HTTP ${res.status}, ${res.bytes} bytes ${res.errorText ?? ''}`,
            );
          }
          bytes += res.bytes;
        }
      }),
    );
  } finally {
    for (const c of conns) c.close();
  }
  return { seconds: (performance.now() - started) / 1000, bytes, requests: ranges.length };
}
