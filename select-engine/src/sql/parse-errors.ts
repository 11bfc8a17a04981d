// Chevrotain's parse errors -> the AWS error code a client expects, with the position of the token.
import type { IToken } from 'chevrotain';
import { SelectError, type SelectErrorCode } from '../errors.js';
import * as T from './tokens.js';

function fail(code: SelectErrorCode, t: IToken, message?: string): never {
  throw new SelectError(code, message, { line: t.startLine ?? 1, column: t.startColumn ?? 1 });
}

/** Clauses S3 Select does not have, by their first word. */
export const UNSUPPORTED_CLAUSES: Record<string, SelectErrorCode> = {
  group: 'ParseExpectedIdentForGroupName',
  order: 'ParseUnsupportedSyntax',
  join: 'ParseMalformedJoin',
  having: 'ParseUnsupportedSyntax',
  union: 'ParseUnsupportedSyntax',
  distinct: 'ParseUnsupportedSyntax',
  offset: 'ParseUnsupportedSyntax',
};

/** Turns the first Chevrotain error into the AWS code a client expects. */
export function errorFromParser(err: { message: string; token: IToken }, tokens: IToken[]): never {
  let info: { kind: string; expected?: string; actual?: string; ruleName?: string };
  try {
    info = JSON.parse(err.message);
  } catch {
    info = { kind: 'unknown' };
  }
  const t = err.token;
  const atEnd = t.tokenType.name === 'EOF';
  const where = atEnd ? tokens[tokens.length - 1] : t;
  const word = t.image?.toLowerCase();
  if (!atEnd && word in UNSUPPORTED_CLAUSES) fail(UNSUPPORTED_CLAUSES[word], t);
  if (info.kind === 'redundant') {
    if (t.tokenType === T.Comma && info.ruleName === 'statement') fail('ParseMalformedJoin', t);
    fail(T.isKeywordToken(t) ? 'ParseUnExpectedKeyword' : 'ParseUnexpectedToken', t);
  }
  if (info.kind === 'earlyexit' && info.ruleName === 'caseExpr') fail('ParseExpectedWhenClause', where);
  if (info.kind === 'mismatch') {
    if (info.expected === 'EOF') {
      if (t.tokenType === T.Comma) fail('ParseMalformedJoin', t);
      fail(T.isKeywordToken(t) ? 'ParseUnExpectedKeyword' : 'ParseUnexpectedToken', t);
    }
    if (info.expected === 'FROM' && info.ruleName === 'statement') {
      if (tokens[1]?.tokenType === T.Star && t.tokenType === T.Comma) fail('ParseAsteriskIsNotAloneInSelectList', t);
      fail('ParseSelectMissingFrom', where);
    }
    if (info.expected === 'LParen' && info.ruleName === 'castExpr') fail('ParseExpectedLeftParenAfterCast', where);
    if (info.expected === 'LParen') fail('ParseExpectedLeftParenBuiltinFunctionCall', where);
    if (info.expected === 'RParen' && info.ruleName === 'castExpr' && t.tokenType === T.Comma)
      fail('ParseCastArity', t);
    if (info.expected === 'RParen' && info.ruleName !== 'primary' && info.ruleName !== 'predicatePart') {
      fail(t.tokenType === T.Comma ? 'EvaluatorInvalidArguments' : 'ParseExpectedRightParenBuiltinFunctionCall', where);
    }
    if (info.expected === 'IntegerLiteral') fail('ParseExpectedNumber', where);
    if (info.expected === 'AS' && info.ruleName === 'castExpr')
      fail('ParseExpectedKeyword', where, 'Expected AS in CAST');
    if (info.expected && info.expected === info.expected.toUpperCase())
      fail('ParseExpectedKeyword', where, `Expected keyword ${info.expected}`);
    if (info.ruleName === 'fromClause' && info.expected === 'Identifier')
      fail(T.isKeywordToken(t) ? 'ParseUnExpectedKeyword' : 'ParseExpectedIdentForAlias', where);
    fail('ParseExpectedTokenType', where);
  }
  if (info.kind === 'noalt') {
    if (info.ruleName === 'selectList' && t.tokenType === T.From) fail('ParseEmptySelect', t);
    if (info.ruleName === 'castExpr') fail('ParseExpectedTypeName', where);
    if (info.ruleName === 'extractExpr') fail('ParseExpectedDatePart', where);
    if (atEnd) fail('ParseExpectedExpression', where);
    if (T.isKeywordToken(t)) fail('ParseUnExpectedKeyword', t, `Unexpected keyword: ${t.image}`);
    if (info.ruleName === 'unaryExpr' || info.ruleName === 'primary') fail('ParseUnexpectedTerm', t);
    fail('ParseUnexpectedToken', t);
  }
  fail('ParseUnexpectedToken', where);
}
