// Values built while evaluating stay within the record limit: concatenation of a large field with itself
// is OverMaxRecordSize at once, not hundreds of MB built per row (or V8's string limit: InternalError).
// Text read as a number is parsed in linear time whatever it holds.
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../src/formats/index.js';
import { runToEnd } from './helpers.js';

const csv = (sql: string, data: string) =>
  runToEnd(
    { expression: sql, expressionType: 'SQL', input: { csv: {} }, output: { csv: {} } },
    bufferSource(Buffer.from(data)),
  );

describe('record limit on built values', () => {
  it('|| refuses to build a string over 1 MB, anywhere in the query', async () => {
    const field = 'a'.repeat(300 * 1024);
    for (const sql of [
      `SELECT ${Array.from({ length: 600 }, () => '_1').join(' || ')} FROM S3Object`,
      'SELECT _2 FROM S3Object WHERE CHAR_LENGTH(_1 || _1 || _1 || _1) > 0',
    ]) {
      expect((await csv(sql, `${field},x\n`)).error, sql.slice(0, 60)).toBe('OverMaxRecordSize');
    }
    // Just under the limit is fine.
    const out = await csv('SELECT CHAR_LENGTH(_1 || _1 || _1) FROM S3Object', `${field}\n`);
    expect([out.error, out.records]).toEqual([undefined, `${3 * field.length}\n`]);
    // 1 MiB exactly is within it (AWS: a record up to 1 MB), one character more is not.
    const half = 'a'.repeat(512 * 1024);
    const at = await csv('SELECT CHAR_LENGTH(_1 || _1) FROM S3Object', `${half}\n`);
    expect([at.error, at.records]).toEqual([undefined, `${1024 * 1024}\n`]);
    const past = await csv("SELECT CHAR_LENGTH(_1 || _1 || 'a') FROM S3Object", `${half}\n`);
    expect(past.error).toBe('OverMaxRecordSize');
  });
});

describe('record limit on output records', () => {
  // An output record of 1 MiB (its delimiter included) is written, one of more is OverMaxRecordSize. Counted in
  // bytes: 'é' is two bytes of UTF-8 but one character, so a record of 1 MiB is about 512 K characters long.
  it('is counted in bytes of UTF-8, up to 1 MiB exactly', async () => {
    const field = `${'é'.repeat(262_143)}x`; // 524,287 bytes: `field,field\n` is 1,048,576
    const out = await csv('SELECT _1, _1 FROM S3Object', `${field}\n`);
    expect(out.error).toBeUndefined();
    expect(Buffer.byteLength(out.records)).toBe(1024 * 1024);
    const over = await csv('SELECT _1, _1 FROM S3Object', `${field}é\n`);
    expect([over.error, over.records]).toEqual(['OverMaxRecordSize', '']);
  });
});

describe('numbers in text', () => {
  // The pattern was quadratic on spaces: 64 KB took 10 s.
  it('a field of spaces read as a DECIMAL is a CastFailed at once', async () => {
    const spaces = ' '.repeat(512 * 1024);
    expect((await csv('SELECT CAST(_1 AS DECIMAL) FROM S3Object', `${spaces}x\n`)).error).toBe('CastFailed');
    const padded = ' '.repeat(256 * 1024);
    const out = await csv('SELECT _2 FROM S3Object WHERE CAST(_1 AS DECIMAL) > 1.5', `${padded}2.5${padded},yes\n`);
    expect([out.error, out.records]).toEqual([undefined, 'yes\n']);
    expect((await csv('SELECT CAST(_1 AS DECIMAL) FROM S3Object', ' -12.50e1 \n')).records).toBe('-125.0\n');
  });
});

describe('LIKE patterns', () => {
  // A run holding _ costs one machine word per 32 of its characters for every character of the value.
  it('a run of more than 128 characters holding _ is LikeInvalidInputs, constant or computed per row', async () => {
    const run = `${'a'.repeat(100)}_${'a'.repeat(100)}`;
    const constant = await csv(`SELECT _1 FROM S3Object WHERE _1 LIKE '%${run}%'`, 'x\n');
    expect([constant.error, constant.errorBeforeStream]).toEqual(['LikeInvalidInputs', true]);
    const perRow = await csv('SELECT _1 FROM S3Object WHERE _1 LIKE _2', `x,%${run}%\n`);
    expect([perRow.error, perRow.errorBeforeStream]).toEqual(['LikeInvalidInputs', false]);
    const fine = await csv(`SELECT _1 FROM S3Object WHERE _1 LIKE '%${'a'.repeat(200)}%_'`, `${'a'.repeat(201)}\n`);
    expect([fine.error, fine.records]).toEqual([undefined, `${'a'.repeat(201)}\n`]);
  });
});

describe('ceph dialect aliases', () => {
  const ceph = (sql: string, data: string) =>
    runToEnd(
      { expression: sql, expressionType: 'SQL', input: { csv: {} }, output: { csv: {} }, dialect: 'ceph' },
      bufferSource(Buffer.from(data)),
    );

  it('an alias chain that doubles at each step is refused once expanded past the bound', async () => {
    // a1 = a0+a0, a2 = a1+a1, ...: 30 aliases would expand to 2^30 nodes; the expansion stops at 16,384.
    const items = ['int(_1) as a0', ...Array.from({ length: 30 }, (_, i) => `a${i}+a${i} as a${i + 1}`)];
    const out = await ceph(`select ${items.join(', ')} from s3object`, '1\n');
    expect(out.error).toBe('MaxOperatorsExceeded');
    // A short chain is fine and computes what it says.
    const short = await ceph('select int(_1) as a0, a0+a0 as a1, a1+a1 as a2 from s3object where a2 > 3', '1\n2\n');
    expect([short.error, short.records]).toEqual([undefined, '1,2,4\n2,4,8\n']);
  });
});
