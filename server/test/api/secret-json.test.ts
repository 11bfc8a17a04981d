// Secrets kept out of JS strings (issue 16): KMS JSON whose one secret field is read and written as bytes
// (api/sse/secret-json.ts, used by the Vault/OpenBao KMS; test/python/test_sse_kms.py runs it against a
// real OpenBao), and the SSE-C key decoded only for each use and wiped after it (api/sse/customer-key.ts).
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { customerKey, withCustomerKey } from '../../src/api/sse/customer-key.js';
import {
  base64Bytes,
  fromBase64Bytes,
  isMasked,
  jsonWithSecret,
  takeSecretField,
} from '../../src/api/sse/secret-json.js';
import type { S3Error } from '../../src/errors.js';

describe('base64 as bytes', () => {
  it('encodes and decodes as Buffer does, for every length', () => {
    for (let n = 0; n <= 70; n++) {
      const data = randomBytes(n);
      const b64 = data.toString('base64');
      expect(base64Bytes(data).toString('latin1')).toBe(b64);
      expect(fromBase64Bytes(Buffer.from(b64))?.equals(data)).toBe(true);
      // JSON may escape a slash: `\/`.
      expect(fromBase64Bytes(Buffer.from(b64.replaceAll('/', '\\/')))?.equals(data)).toBe(true);
    }
    expect(fromBase64Bytes(Buffer.from('ab$d'))).toBeUndefined();
    expect(fromBase64Bytes(Buffer.from('ab=d'))).toBeUndefined();
  });
});

describe('a secret field of a JSON body', () => {
  const key = randomBytes(32);
  const answer = () =>
    Buffer.from(
      JSON.stringify({
        request_id: 'r1',
        data: { ciphertext: 'vault:v1:abc', key_version: 1, plaintext: key.toString('base64') },
        warnings: null,
      }),
    );

  it('is taken out as bytes, the rest parsed with it masked, the raw body wiped', () => {
    const raw = answer();
    const { secret, json } = takeSecretField(raw, 'plaintext');
    expect(secret?.equals(key)).toBe(true);
    const data = (json as { data: Record<string, unknown> }).data;
    expect(isMasked(data.plaintext)).toBe(true);
    expect(data.ciphertext).toBe('vault:v1:abc');
    expect(raw.every((b) => b === 0)).toBe(true);
  });

  it('is not taken when repeated or absent; a body that is not JSON throws, wiped all the same', () => {
    const twice = Buffer.from(`{"plaintext":"${key.toString('base64')}","x":{"plaintext":"AAAA"}}`);
    expect(takeSecretField(twice, 'plaintext').secret).toBeUndefined();
    expect(takeSecretField(Buffer.from('{"errors":["no"]}'), 'plaintext')).toEqual({ json: { errors: ['no'] } });
    const broken = Buffer.from(`{"plaintext":"${key.toString('base64')}"`);
    expect(() => takeSecretField(broken, 'plaintext')).toThrow(SyntaxError);
    expect(broken.every((b) => b === 0)).toBe(true);
  });

  it('is written into a request body next to the other fields', () => {
    const body = jsonWithSecret('plaintext', key, { associated_data: 'YWJj', n: 1 });
    expect(JSON.parse(body.toString())).toEqual({ plaintext: key.toString('base64'), associated_data: 'YWJj', n: 1 });
    expect(JSON.parse(jsonWithSecret('plaintext', key, {}).toString())).toEqual({ plaintext: key.toString('base64') });
  });
});

describe('SSE-C key', () => {
  const key = randomBytes(32);
  const headers = (k64: string, md5 = createHash('md5').update(key).digest('base64')) => ({
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': k64,
    'x-amz-server-side-encryption-customer-key-md5': md5,
  });

  it('is kept as its header and decoded only for each use, wiped when the use returns or throws', () => {
    const ckey = customerKey(headers(key.toString('base64')), true, false)!;
    expect(Object.values(ckey).some((v) => Buffer.isBuffer(v))).toBe(false);
    let seen: Buffer | undefined;
    const md5 = withCustomerKey(ckey, (k) => {
      seen = k;
      expect(k.equals(key)).toBe(true);
      return createHash('md5').update(k).digest('base64');
    });
    expect(md5).toBe(ckey.md5);
    expect(seen?.every((b) => b === 0)).toBe(true);
    expect(() =>
      withCustomerKey(ckey, (k) => {
        seen = k;
        throw new Error('use failed');
      }),
    ).toThrow('use failed');
    expect(seen?.every((b) => b === 0)).toBe(true);
  });

  it('is refused when not base64 of 32 bytes in canonical form, or its MD5 differs', () => {
    const code = (h: Record<string, string>) => {
      try {
        customerKey(h, true, false);
      } catch (e) {
        return (e as S3Error).code;
      }
      return 'accepted';
    };
    const b64 = key.toString('base64');
    expect(code(headers(randomBytes(31).toString('base64')))).toBe('InvalidArgument');
    // The last character's two low bits must be zero (one key, one spelling, as S3's check).
    expect(code(headers(`${b64.slice(0, 42)}B=`))).toBe('InvalidArgument');
    expect(code(headers(b64, createHash('md5').update('other').digest('base64')))).toBe('InvalidArgument');
    expect(code(headers(` ${b64} `))).toBe('accepted');
  });
});
