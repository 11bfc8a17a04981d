// Values built while evaluating stay within the record limit: concatenation of a large field with itself
// is OverMaxRecordSize at once, not hundreds of MB built per row (or V8's string limit: InternalError).
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../src/formats/index.js';
import { runToEnd } from './helpers.js';

const csv = (sql: string, data: string) => runToEnd({ expression: sql, expressionType: 'SQL', input: { csv: {} }, output: { csv: {} } }, bufferSource(Buffer.from(data)));

describe('record limit on built values', () => {
  it('|| refuses to build a string over 1 MB, anywhere in the query', async () => {
    const field = 'a'.repeat(300 * 1024);
    for (const sql of [
      `SELECT ${Array.from({ length: 600 }, () => '_1').join(' || ')} FROM S3Object`,
      "SELECT _2 FROM S3Object WHERE CHAR_LENGTH(_1 || _1 || _1 || _1) > 0",
    ]) {
      expect((await csv(sql, `${field},x\n`)).error, sql.slice(0, 60)).toBe('OverMaxRecordSize');
    }
    // Just under the limit is fine.
    const out = await csv('SELECT CHAR_LENGTH(_1 || _1 || _1) FROM S3Object', `${field}\n`);
    expect([out.error, out.records]).toEqual([undefined, `${3 * field.length}\n`]);
  });
});
