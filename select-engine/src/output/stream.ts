// Output text -> event-stream messages: Records payloads cut under 128 KiB (a record may span messages),
// Cont keep-alives whenever nothing was sent for a while (including while the scanner waits on a slow
// source), Progress when requested, then Stats and End. An error after the stream started becomes an
// error message, after the records already produced, and no End follows it.
import { SelectError } from '../errors.js';
import {
  contMessage,
  endMessage,
  errorMessage,
  MAX_RECORDS_PAYLOAD,
  progressMessage,
  recordsMessage,
  statsMessage,
  type ByteCounts,
} from './event-stream.js';

export interface StreamOptions {
  /** Counters the scanner keeps current. */
  stats: { bytesScanned: number; bytesProcessed: number };
  progress: boolean;
  /** Send Cont after this long without any message (ms). */
  keepAliveMs: number;
  /** Send Progress at most this often (ms) when requested. */
  progressMs: number;
  /** Called when the consumer stops early (client gone): lets the caller abort the scan. */
  onClose?: () => void;
  /** Called once when the stream ends (finished, failed or cut off), with the query's final counts. */
  onStats?: (counts: ByteCounts) => void;
}

/** Maps any error to an AWS code and message for the error message. */
export function errorCodeOf(e: unknown): { code: string; message: string } {
  if (e instanceof SelectError) return { code: e.code, message: e.message };
  return { code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
}

export async function* frameStream(
  texts: AsyncIterator<string | Uint8Array>,
  o: StreamOptions,
): AsyncGenerator<Uint8Array> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytesReturned = 0;
  let lastSent = Date.now();
  let lastProgress = Date.now();
  const counts = (): ByteCounts => ({
    bytesScanned: o.stats.bytesScanned,
    bytesProcessed: o.stats.bytesProcessed,
    bytesReturned,
  });

  function* flush(all: boolean): Generator<Uint8Array> {
    if (pendingBytes === 0 || (!all && pendingBytes < MAX_RECORDS_PAYLOAD)) return;
    let buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    while (buf.length >= MAX_RECORDS_PAYLOAD || (all && buf.length > 0)) {
      const n = Math.min(buf.length, MAX_RECORDS_PAYLOAD);
      yield recordsMessage(buf.subarray(0, n));
      bytesReturned += n;
      buf = buf.subarray(n);
    }
    pending = buf.length ? [buf] : [];
    pendingBytes = buf.length;
    lastSent = Date.now();
  }

  let done = false;
  try {
    let next = texts.next();
    for (;;) {
      // Wait for the next output, sending keep-alives while the scan runs on without producing any.
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>(
        (resolve) => (timer = setTimeout(resolve, Math.max(1, o.keepAliveMs - (Date.now() - lastSent)), 'tick')),
      );
      const r = await Promise.race([next, tick]);
      clearTimeout(timer);
      const now = Date.now();
      if (r === 'tick') {
        if (pendingBytes > 0) yield* flush(true);
        else {
          yield contMessage();
          lastSent = now;
        }
      } else {
        if (r.done) break;
        next = texts.next();
        if (r.value.length > 0) {
          const v = r.value;
          const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
          pending.push(b);
          pendingBytes += b.length;
          yield* flush(false);
        }
        if (now - lastSent >= o.keepAliveMs) {
          if (pendingBytes > 0) yield* flush(true);
          else {
            yield contMessage();
            lastSent = now;
          }
        }
      }
      if (o.progress && now - lastProgress >= o.progressMs) {
        yield progressMessage(counts());
        lastProgress = now;
      }
    }
    yield* flush(true);
    if (o.progress) yield progressMessage(counts());
    yield statsMessage(counts());
    yield endMessage();
    done = true;
  } catch (e) {
    done = true;
    yield* flush(true);
    const { code, message } = errorCodeOf(e);
    yield errorMessage(code, message.slice(0, 1000));
  } finally {
    o.onStats?.(counts());
    if (!done) {
      // The consumer stopped early: close the query (and so the scan) without waiting for more output.
      o.onClose?.();
      void texts.return?.(undefined)?.catch(() => undefined);
    }
  }
}
