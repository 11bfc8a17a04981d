// AWS's event stream framing (the answer of SelectObjectContent), read in the browser: each message is
// [total length u32][headers length u32][prelude CRC u32][headers][payload][message CRC u32], big-endian;
// a header is [name length u8][name][type u8][value], and Select's headers are strings (type 7).

export interface EventMessage {
  headers: Record<string, string>;
  payload: Uint8Array;
}

/** Splits a whole event stream into its messages (throws on a truncated or malformed one). */
export function readMessages(bytes: Uint8Array): EventMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: EventMessage[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 16) throw new Error('truncated event stream');
    const total = view.getUint32(at);
    const headersLength = view.getUint32(at + 4);
    if (total < 16 + headersLength || at + total > bytes.length) throw new Error('malformed event stream');
    const headers: Record<string, string> = {};
    let h = at + 12;
    const end = h + headersLength;
    while (h < end) {
      const nameLength = bytes[h];
      const name = new TextDecoder().decode(bytes.subarray(h + 1, h + 1 + nameLength));
      h += 1 + nameLength;
      const type = bytes[h];
      if (type !== 7) throw new Error(`event stream header ${name} has type ${type}, not string`);
      const valueLength = view.getUint16(h + 1);
      headers[name] = new TextDecoder().decode(bytes.subarray(h + 3, h + 3 + valueLength));
      h += 3 + valueLength;
    }
    messages.push({ headers, payload: bytes.subarray(end, at + total - 4) });
    at += total;
  }
  return messages;
}
