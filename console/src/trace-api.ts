// The live request trace through MinIO's admin API (GET /minio/admin/v3/trace, `mc admin trace`): a stream of
// madmin.TraceInfo JSON lines, signed like every other call and read as it comes until the page aborts it.
// The server leaves every secret out of the entries (no Authorization, no signature, no SSE-C key, no body).
import { call, readJsonLines } from './client.js';

/** madmin.TraceInfo, the parts the page shows. */
export interface TraceInfo {
  funcname: string;
  time: string;
  path: string;
  /** ns */
  dur: number;
  msg?: string;
  http?: {
    request: { method: string; rawquery?: string; client: string };
    response: { statuscode?: number };
    stats: { inputbytes: number; outputbytes: number; timetofirstbyte: number };
  };
}

export interface TraceFilter {
  /** Only answers with status 400 or more. */
  errorsOnly: boolean;
  /** Only requests whose path starts with this. */
  path: string;
  /** Only requests that took at least this many milliseconds (0: all). */
  thresholdMs: number;
}

/**
 * Traces until `signal` aborts (then resolves) or the server ends the stream; each entry goes to `onEntry`.
 * Blank keep-alive lines are skipped.
 */
export async function trace(f: TraceFilter, signal: AbortSignal, onEntry: (e: TraceInfo) => void): Promise<void> {
  const query: [string, string][] = [];
  if (f.errorsOnly) query.push(['err', 'true']);
  if (f.path) query.push(['path', f.path]);
  if (f.thresholdMs > 0) query.push(['threshold', `${f.thresholdMs}ms`]);
  let res: Response;
  try {
    res = await call({ bucket: 'minio', key: 'admin/v3/trace', query, signal });
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
  await readJsonLines(res, signal, (line) => onEntry(line as TraceInfo));
}
