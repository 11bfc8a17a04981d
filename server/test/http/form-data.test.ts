// The streaming form reader of POST uploads: boundaries longer than RFC 2046's 70 characters are refused
// (each search for one costs up to its length per byte of the upload), and a form arriving a byte at a time
// reads the same as one arriving whole.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { boundaryOf, readForm } from '../../src/http/form-data.js';
import { thrownCode } from '../thrown-code.js';

function form(boundary: string, fields: Record<string, string>, file: string): Buffer {
  const parts = Object.entries(fields).map(
    ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  parts.push(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n` +
      `Content-Type: text/plain\r\n\r\n${file}\r\n--${boundary}--\r\n`,
  );
  return Buffer.from(parts.join(''));
}

const pieces = (buf: Buffer, size: number) =>
  Readable.from(Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size)));

describe('form-data', () => {
  it('takes boundaries of 1 to 70 characters, quoted or not', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc');
    expect(boundaryOf(`multipart/form-data; boundary="${'b'.repeat(70)}"`)).toBe('b'.repeat(70));
    expect(thrownCode(() => boundaryOf(`multipart/form-data; boundary=${'b'.repeat(71)}`))).toBe(
      'MalformedPOSTRequest',
    );
    expect(thrownCode(() => boundaryOf(`multipart/form-data; boundary=${'a'.repeat(8000)}b`))).toBe(
      'MalformedPOSTRequest',
    );
    expect(thrownCode(() => boundaryOf('multipart/form-data'))).toBe('MalformedPOSTRequest');
  });

  it('reads the same form whole and a byte at a time', async () => {
    const boundary = `${'a'.repeat(60)}b`;
    const body = form(boundary, { key: 'k', policy: 'a'.repeat(20_000) }, 'a'.repeat(5000));
    for (const size of [body.length, 1, 7]) {
      const f = await readForm(pieces(body, size), boundary);
      expect([f.fields.get('key'), f.fields.get('policy')?.length, f.fileName]).toEqual(['k', 20_000, 'f.txt']);
      expect((await buffer(f.file)).toString()).toBe('a'.repeat(5000));
    }
  });
});
