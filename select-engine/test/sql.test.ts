import { describe, expect, it } from 'vitest';
import { parseSql } from '../src/sql/to-ast.js';
import { SelectError } from '../src/errors.js';

function code(sql: string): string | undefined {
  try {
    parseSql(sql);
    return undefined;
  } catch (e) {
    if (e instanceof SelectError) return e.code;
    throw e;
  }
}

describe('SQL parser', () => {
  it('parses the whole dialect into an AST with positions', () => {
    const ast = parseSql(
      "select s._1, s.\"Name\" AS n from s3object s where s._2 > 5 and s.a like 'x%' escape '!' limit 10",
    );
    expect(ast.limit).toBe(10);
    expect(ast.from.alias).toEqual({ name: 's', quoted: false });
    const items = ast.select as Exclude<typeof ast.select, '*'>;
    expect(items[1].alias).toEqual({ name: 'n', quoted: false });
    expect(items[1].expr).toMatchObject({
      kind: 'path',
      steps: [{ kind: 'field', name: { name: 'Name', quoted: true } }],
    });
    expect(items[0].pos).toMatchObject({ line: 1, column: 8 });
    expect(ast.where).toMatchObject({
      kind: 'binary',
      op: 'AND',
      right: { kind: 'like', escape: { kind: 'literal' } },
    });
  });

  it('parses FROM paths, both SUBSTRING forms, TRIM forms, DATE_ADD parts', () => {
    const ast = parseSql(
      "SELECT SUBSTRING('abc' FROM 2 FOR 1), SUBSTRING('abc', 2), TRIM(LEADING 'x' FROM _1), DATE_ADD(year, 1, `2010T`) FROM S3Object[*].a['b'][0].* AS t",
    );
    expect(ast.from.steps.map((s) => s.kind)).toEqual(['wildcard', 'field', 'field', 'index', 'fieldWildcard']);
    const items = ast.select as Exclude<typeof ast.select, '*'>;
    expect(items.map((i) => i.expr.kind)).toEqual(['substring', 'substring', 'trim', 'call']);
    expect((items[3].expr as { args: unknown[] }).args[0]).toMatchObject({ kind: 'datePart', part: 'year' });
  });

  it('skips block and line comments, and lexes what follows an unterminated one', () => {
    const ast = parseSql(
      'SELECT /* a */ _1 /**/ -- the rest of the line\nFROM /* multi\nline */ S3Object /* x /* y */ LIMIT 3',
    );
    expect(ast.limit).toBe(3);
    expect((ast.select as Exclude<typeof ast.select, '*'>).length).toBe(1);
    // No `*/` after it: `/*` is a division and a star, a parse error (not a comment to the end).
    expect(code('SELECT _1 FROM S3Object /* never closed')).toBe('ParseUnexpectedToken');
    // Many openings without a close lex in linear time (a RegExp scanned to the end from each one).
    expect(code(`SELECT _1 FROM S3Object WHERE 1 = 1 ${'/* '.repeat(80_000)}`)).toBeDefined();
  });

  it('keywords are case-insensitive, operators keep precedence', () => {
    const ast = parseSql('SeLeCt 1 + 2 * 3 FrOm S3OBJECT');
    const items = ast.select as Exclude<typeof ast.select, '*'>;
    expect(items[0].expr).toMatchObject({ op: '+', right: { op: '*' } });
  });

  it.each([
    ['SELECT date FROM S3Object', 'ParseUnExpectedKeyword'],
    ['SELECT foo(1) FROM S3Object', 'UnsupportedFunction'],
    ['SELECT FROM S3Object', 'ParseEmptySelect'],
    ['SELECT *, a FROM S3Object', 'ParseAsteriskIsNotAloneInSelectList'],
    ['SELECT a FROM S3Object GROUP BY a', 'ParseExpectedIdentForGroupName'],
    ['SELECT a S3Object', 'ParseSelectMissingFrom'],
    ['SELECT a FROM S3Object WHERE', 'ParseExpectedExpression'],
    ["SELECT a FROM S3Object WHERE a = 'x", 'LexerInvalidLiteral'],
    ['SELECT a FROM S3Object WHERE a # 1', 'LexerInvalidChar'],
    ['SELECT CAST(a AS foo) FROM S3Object', 'ParseExpectedTypeName'],
    ['SELECT CASE END FROM S3Object', 'ParseExpectedWhenClause'],
    ['SELECT a FROM S3Object LIMIT -1', 'EvaluatorNegativeLimit'],
    ['SELECT sum(*) FROM S3Object', 'ParseUnsupportedCallWithStar'],
    ['SELECT sum(a, b) FROM S3Object', 'ParseNonUnaryAgregateFunctionCall'],
    ['SELECT lower(a, b) FROM S3Object', 'EvaluatorInvalidArguments'],
    ['SELECT a FROM S3Object, S3Object', 'ParseMalformedJoin'],
    ['DELETE FROM S3Object', 'ParseUnsupportedSelect'],
    ['SELECT EXTRACT(week FROM a) FROM S3Object', 'ParseExpectedDatePart'],
    ['SELECT a FROM S3Object WHERE a IN 1', 'ParseExpectedLeftParenBuiltinFunctionCall'],
    ['SELECT a FROM S3Object[*] WHERE a.b[*] = 1', 'ParseCannotMixSqbAndWildcardInSelectList'],
    ['SELECT a.*.b FROM S3Object', 'ParseInvalidContextForWildcardInSelectList'],
  ])('%s -> %s', (sql, expected) => {
    expect(code(sql)).toBe(expected);
  });

  it('reports the line and column of an error', () => {
    try {
      parseSql('SELECT a\nFROM S3Object\nWHERE a = = 1');
      expect.unreachable();
    } catch (e) {
      expect((e as SelectError).position).toEqual({ line: 3, column: 11 });
    }
  });

  it('refuses SQL above 256 KB with ExpressionTooLong', () => {
    expect(code(`SELECT * FROM S3Object WHERE ${"_1 = 'x' OR ".repeat(25_000)}1 = 1`)).toBe('ExpressionTooLong');
  });
});

describe('SQL limits', () => {
  it('accepts a long OR chain (balanced, evaluated in a loop) up to 16,384 tokens, refuses more', () => {
    const chain = (n: number) =>
      `SELECT * FROM S3Object WHERE ${Array.from({ length: n }, (_, i) => `_1 = '${i}'`).join(' OR ')}`;
    expect(code(chain(4_000))).toBeUndefined(); // 4 tokens per comparison
    expect(code(chain(4_200))).toBe('MaxOperatorsExceeded');
    // Whatever the tokens: 8,200 values in an IN list, a SELECT list of 5,500 columns.
    const inList = `SELECT * FROM S3Object WHERE _1 IN (${Array(8_200).fill('1').join(',')})`;
    expect(code(inList)).toBe('MaxOperatorsExceeded');
    expect(code(`SELECT ${Array(5_500).fill('s._1').join(',')} FROM S3Object s`)).toBe('MaxOperatorsExceeded');
    expect(code(`SELECT ${Array(4_000).fill('s._1').join(',')} FROM S3Object s`)).toBeUndefined();
  });

  it('refuses pathological nesting with MaxOperatorsExceeded instead of overflowing the stack', () => {
    const nested = `SELECT ${'('.repeat(5_000)}1${')'.repeat(5_000)} FROM S3Object`;
    expect(code(nested)).toBe('MaxOperatorsExceeded');
    expect(code(`SELECT 1${' + 1'.repeat(5000)} FROM S3Object`)).toBe('MaxOperatorsExceeded');
  });
});
