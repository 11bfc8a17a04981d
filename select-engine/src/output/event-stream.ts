// AWS event-stream framing (application/vnd.amazon.eventstream):
//   [total length u32][headers length u32][prelude CRC32][headers][payload][message CRC32], big-endian.
// Header bytes for each event type are built once; CRC32 is zlib's (the IEEE polynomial).
import { crc32 } from 'node:zlib';

/** Records payloads stay under this many bytes (older Java SDK decoders fail at 128 KiB and above). */
export const MAX_RECORDS_PAYLOAD = 128 * 1024 - 1024;

function encodeHeaders(headers: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const h = Buffer.allocUnsafe(1 + n.length + 1 + 2 + v.length);
    h[0] = n.length;
    n.copy(h, 1);
    h[1 + n.length] = 7; // string
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    parts.push(h);
  }
  return Buffer.concat(parts);
}

/** One complete message. */
export function encodeMessage(headers: Buffer, payload?: Uint8Array): Buffer {
  const plen = payload?.byteLength ?? 0;
  const total = 16 + headers.length + plen;
  const msg = Buffer.allocUnsafe(total);
  msg.writeUInt32BE(total, 0);
  msg.writeUInt32BE(headers.length, 4);
  msg.writeUInt32BE(crc32(msg.subarray(0, 8)), 8);
  headers.copy(msg, 12);
  if (payload && plen > 0) msg.set(payload, 12 + headers.length);
  msg.writeUInt32BE(crc32(msg.subarray(0, total - 4)), total - 4);
  return msg;
}

const RECORDS = encodeHeaders([
  [':message-type', 'event'],
  [':event-type', 'Records'],
  [':content-type', 'application/octet-stream'],
]);
const CONT = encodeHeaders([
  [':message-type', 'event'],
  [':event-type', 'Cont'],
]);
const END = encodeHeaders([
  [':message-type', 'event'],
  [':event-type', 'End'],
]);
const PROGRESS = encodeHeaders([
  [':message-type', 'event'],
  [':event-type', 'Progress'],
  [':content-type', 'text/xml'],
]);
const STATS = encodeHeaders([
  [':message-type', 'event'],
  [':event-type', 'Stats'],
  [':content-type', 'text/xml'],
]);

export interface ByteCounts {
  bytesScanned: number;
  bytesProcessed: number;
  bytesReturned: number;
}

function countsXml(tag: 'Progress' | 'Stats', c: ByteCounts): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><${tag}><BytesScanned>${c.bytesScanned}</BytesScanned>` +
      `<BytesProcessed>${c.bytesProcessed}</BytesProcessed><BytesReturned>${c.bytesReturned}</BytesReturned></${tag}>`,
  );
}

export const recordsMessage = (payload: Uint8Array): Buffer => encodeMessage(RECORDS, payload);
export const contMessage = (): Buffer => encodeMessage(CONT);
export const endMessage = (): Buffer => encodeMessage(END);
export const progressMessage = (c: ByteCounts): Buffer => encodeMessage(PROGRESS, countsXml('Progress', c));
export const statsMessage = (c: ByteCounts): Buffer => encodeMessage(STATS, countsXml('Stats', c));

/** An error after the stream started: no payload, and no End after it. */
export function errorMessage(code: string, message: string): Buffer {
  return encodeMessage(
    encodeHeaders([
      [':message-type', 'error'],
      [':error-code', code],
      [':error-message', message],
    ]),
  );
}
