// The value model's text forms where no query shows them (the writers skip MISSING before asking), and the bound
// on the input a CastFailed message repeats. The rest of values.ts is pinned by golden cases (golden/values.case,
// cast.case, int64.case, ...).
import { describe, expect, it } from 'vitest';
import { valueToJson, valueToText } from '../src/exec/values.js';
import { bufferSource } from '../src/formats/index.js';
import { runToEnd } from './helpers.js';

describe('text of MISSING and NULL', () => {
  it('is empty as CSV text, null as JSON', () => {
    expect(valueToText(undefined)).toBe('');
    expect(valueToText(null)).toBe('');
    expect(valueToJson(undefined)).toBe('null');
    expect(valueToJson(null)).toBe('null');
  });
});

describe('a CAST that fails', () => {
  it('repeats at most the first 40 characters of the value in its message (a 10,000-character field)', async () => {
    const field = 'x'.repeat(10_000);
    const out = await runToEnd(
      {
        expression: 'SELECT CAST(_1 AS INT) FROM S3Object',
        input: { compressionType: 'NONE', csv: {} },
        output: { csv: {} },
      },
      bufferSource(Buffer.from(`${field}\n`), 4096),
    );
    expect(out.error).toBe('CastFailed');
    const message = out.events.find((e) => e.type === 'error')?.headers[':error-message'] ?? '';
    expect(message.length).toBeLessThan(200);
  });
});
