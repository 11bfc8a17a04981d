// JSON bodies exchanged with a KMS in which one field is a secret (Vault/OpenBao transit's `plaintext`: a data
// key in base64). A JS string cannot be wiped, and JSON.parse/JSON.stringify make strings of every field, so
// the secret field is handled as bytes: cut out of the raw answer (and decoded) before the rest is parsed,
// written into the raw request next to the rest; the raw buffers are overwritten once used.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MASK = 0x2a; // '*': what the secret's characters become before the rest of the answer is parsed

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENCODE = Buffer.from(ALPHABET, 'latin1');
const DECODE = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** base64 of `data`, as bytes (no string is made). */
export function base64Bytes(data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(data.length / 3) * 4);
  let o = 0;
  for (let i = 0; i < data.length; i += 3) {
    const n = (data[i] << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
    out[o++] = ENCODE[(n >> 18) & 63];
    out[o++] = ENCODE[(n >> 12) & 63];
    out[o++] = i + 1 < data.length ? ENCODE[(n >> 6) & 63] : 0x3d;
    out[o++] = i + 2 < data.length ? ENCODE[n & 63] : 0x3d;
  }
  return out;
}

/**
 * The bytes `text` (base64, as inside a JSON string: `\/` may escape a slash) decodes to; undefined when it
 * is not base64. Works on bytes throughout, so the secret never becomes a string.
 */
export function fromBase64Bytes(text: Uint8Array): Buffer | undefined {
  const out = Buffer.alloc(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  let pad = 0;
  for (const c of text) {
    if (c === BACKSLASH) continue;
    if (c === 0x3d) {
      pad++;
      continue;
    }
    const v = DECODE[c];
    if (v < 0 || pad > 0) {
      out.fill(0);
      return undefined;
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  const key = Buffer.from(out.subarray(0, o));
  out.fill(0);
  return key;
}

/**
 * Takes the one string field `field` out of the raw JSON `raw`: its value decoded from base64 into a Buffer
 * (undefined when absent, repeated or not base64), and `raw` parsed with that value's characters replaced by
 * `*` (a caller checks that the masked field is where it expects it, e.g. `data.plaintext`). `raw` is
 * overwritten with zeros before this returns; throws (after wiping) when `raw` is not JSON.
 */
export function takeSecretField(raw: Buffer, field: string): { secret?: Buffer; json: unknown } {
  try {
    const name = Buffer.from(`"${field}"`);
    const at = raw.indexOf(name);
    let secret: Buffer | undefined;
    if (at >= 0 && raw.indexOf(name, at + 1) < 0) {
      let i = at + name.length;
      while (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09) i++;
      if (raw[i] === 0x3a) i++;
      while (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09) i++;
      if (raw[i] === QUOTE) {
        const start = i + 1;
        const end = raw.indexOf(QUOTE, start);
        if (end > start) {
          secret = fromBase64Bytes(raw.subarray(start, end));
          raw.fill(MASK, start, end);
        }
      }
    }
    try {
      return { secret, json: JSON.parse(raw.toString('utf8')) };
    } catch (e) {
      secret?.fill(0);
      throw e;
    }
  } finally {
    raw.fill(0);
  }
}

/** true when `value` is what takeSecretField left of a secret: one or more `*`. */
export function isMasked(value: unknown): boolean {
  return typeof value === 'string' && /^\*+$/.test(value);
}

/**
 * The JSON object `rest` with string field `field` set to base64 of `secret`, as bytes (the caller wipes the
 * buffer once it is sent).
 */
export function jsonWithSecret(field: string, secret: Uint8Array, rest: Record<string, unknown>): Buffer {
  const b64 = base64Bytes(secret);
  const tail = JSON.stringify(rest).slice(1); // '}' or '"a":1,...}'
  const body = Buffer.concat([
    Buffer.from(`{${JSON.stringify(field)}:"`),
    b64,
    Buffer.from(tail === '}' ? '"}' : `",${tail}`),
  ]);
  b64.fill(0);
  return body;
}
