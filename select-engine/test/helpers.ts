// Test helpers for the engine: run a request to completion and decode its event stream with an
// independent decoder (@smithy/eventstream-codec, the one the AWS SDK uses).
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { runSelect, type RunOptions, type SelectRequest } from '../src/index.js';
import type { ByteSource } from '../src/formats/types.js';
import { SelectError } from '../src/errors.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export interface Decoded {
  type: string;
  headers: Record<string, string>;
  body: Uint8Array;
  bytes: number;
}

export function decodeFrame(frame: Uint8Array): Decoded {
  const m = codec.decode(frame);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers)) headers[k] = String(v.value);
  const type = headers[':message-type'] === 'error' ? 'error' : headers[':event-type'];
  return { type, headers, body: m.body, bytes: frame.byteLength };
}

export interface Outcome {
  /** Concatenated Records payloads. */
  records: string;
  events: Decoded[];
  /** AWS error code: thrown before streaming, or sent as an error message. */
  error?: string;
  /** Whether the error was thrown before the stream started. */
  errorBeforeStream?: boolean;
}

export async function runToEnd(request: SelectRequest, source: ByteSource, options?: RunOptions): Promise<Outcome> {
  let frames: AsyncIterable<Uint8Array>;
  try {
    frames = await runSelect(request, source, options);
  } catch (e) {
    if (e instanceof SelectError) return { records: '', events: [], error: e.code, errorBeforeStream: true };
    throw e;
  }
  const events: Decoded[] = [];
  const chunks: Uint8Array[] = [];
  for await (const f of frames) {
    const d = decodeFrame(f);
    events.push(d);
    if (d.type === 'Records') chunks.push(d.body);
  }
  const records = Buffer.concat(chunks).toString('utf8');
  const err = events.find((e) => e.type === 'error');
  return { records, events, error: err?.headers[':error-code'], errorBeforeStream: err ? false : undefined };
}

export function statsOf(outcome: Outcome): Record<string, number> {
  const stats = outcome.events.find((e) => e.type === 'Stats');
  if (!stats) return {};
  const xml = toUtf8(stats.body);
  const get = (tag: string) => Number(new RegExp(`<${tag}>(\\d+)</${tag}>`).exec(xml)?.[1]);
  return {
    bytesScanned: get('BytesScanned'),
    bytesProcessed: get('BytesProcessed'),
    bytesReturned: get('BytesReturned'),
  };
}
