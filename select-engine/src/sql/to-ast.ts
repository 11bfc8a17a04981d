// CST -> AST, with the checks the grammar leaves open (function names and arity, type names, date parts,
// wildcards, reserved words used as names) and the mapping of parser errors to AWS error codes.
import type { CstNode, IToken } from 'chevrotain';
import { SelectError, type SelectErrorCode } from '../errors.js';
import type * as A from './ast.js';
import { parseTokens } from './parser.js';
import { checkDepth, checkExpr } from './checks.js';
import { errorFromParser, UNSUPPORTED_CLAUSES } from './parse-errors.js';
import * as T from './tokens.js';
import { functionArity } from '../exec/functions.js';
import { cephTokens, expandCephAliases } from './ceph.js';
import { AGGREGATES } from '../exec/aggregates.js';

type Children = Record<string, Array<CstNode | IToken> | undefined>;

function kids(n: CstNode): Children {
  return n.children as Children;
}
function node(c: Children, key: string, i = 0): CstNode {
  return c[key]![i] as CstNode;
}
function tok(c: Children, key: string, i = 0): IToken {
  return c[key]![i] as IToken;
}
function has(c: Children, key: string): boolean {
  return (c[key]?.length ?? 0) > 0;
}
function posOf(t: IToken): A.Pos {
  return { line: t.startLine ?? 1, column: t.startColumn ?? 1, offset: t.startOffset };
}
function fail(code: SelectErrorCode, t: IToken | A.Pos | undefined, message?: string): never {
  if (!t) throw new SelectError(code, message);
  const p = 'image' in t ? posOf(t) : t;
  throw new SelectError(code, message, { line: p.line, column: p.column });
}

/** First token of a CST node (for positions). */
function firstToken(n: CstNode): IToken {
  let best: IToken | undefined;
  for (const arr of Object.values(n.children)) {
    for (const x of arr ?? []) {
      const t = 'image' in x ? (x as IToken) : firstToken(x as CstNode);
      if (!best || t.startOffset < best.startOffset) best = t;
    }
  }
  return best!;
}

function nameOf(t: IToken): A.Name {
  if (t.tokenType === T.QuotedIdentifier) return { name: t.image.slice(1, -1).replace(/""/g, '"'), quoted: true };
  return { name: t.image, quoted: false };
}

const DATE_PARTS = new Set(['year', 'month', 'day', 'hour', 'minute', 'second', 'timezone_hour', 'timezone_minute']);
const CAST_TYPES: Record<string, A.CastType> = {
  bool: 'BOOL',
  boolean: 'BOOL',
  int: 'INT',
  integer: 'INT',
  smallint: 'INT',
  bigint: 'INT',
  string: 'STRING',
  varchar: 'STRING',
  char: 'STRING',
  character: 'STRING',
  float: 'FLOAT',
  real: 'FLOAT',
  double: 'FLOAT',
  decimal: 'DECIMAL',
  numeric: 'DECIMAL',
  dec: 'DECIMAL',
  timestamp: 'TIMESTAMP',
};

function pathStep(n: CstNode): A.PathStep {
  const c = kids(n);
  if (has(c, 'star')) return has(c, 'Dot') ? { kind: 'fieldWildcard' } : { kind: 'wildcard' };
  if (has(c, 'index')) return { kind: 'index', index: Number(tok(c, 'index').image) };
  const t = tok(c, 'name');
  if (t.tokenType === T.StringLiteral)
    return { kind: 'field', name: { name: t.image.slice(1, -1).replace(/''/g, "'"), quoted: true } };
  return { kind: 'field', name: nameOf(t) };
}

/** AND / OR chains become balanced trees (they are associative): depth stays log2(n) for long chains. */
function balanced(operands: A.Expr[], op: 'AND' | 'OR', lo: number, hi: number): A.Expr {
  if (hi - lo === 1) return operands[lo];
  const mid = (lo + hi) >>> 1;
  const left = balanced(operands, op, lo, mid);
  return { kind: 'binary', pos: left.pos, op, left, right: balanced(operands, op, mid, hi) };
}

function binaryChain(n: CstNode, sub: (n: CstNode) => A.Expr, fixedOp?: A.BinaryOp): A.Expr {
  const c = kids(n);
  const operands = (c.operands as CstNode[]).map(sub);
  if (fixedOp === 'AND' || fixedOp === 'OR') return balanced(operands, fixedOp, 0, operands.length);
  const ops = (c.ops as IToken[] | undefined) ?? [];
  let left = operands[0];
  for (let i = 1; i < operands.length; i++) {
    const op = (fixedOp ??
      (ops[i - 1].image === '<>' || ops[i - 1].image === '!=' ? '<>' : ops[i - 1].image)) as A.BinaryOp;
    left = { kind: 'binary', pos: left.pos, op, left, right: operands[i] };
  }
  return left;
}

function expression(n: CstNode): A.Expr {
  return binaryChain(n, andExpr, 'OR');
}
function andExpr(n: CstNode): A.Expr {
  return binaryChain(n, notExpr, 'AND');
}
function notExpr(n: CstNode): A.Expr {
  const c = kids(n);
  if (has(c, 'NOT'))
    return { kind: 'unary', pos: posOf(tok(c, 'NOT')), op: 'NOT', operand: notExpr(node(c, 'notExpr')) };
  return predicate(node(c, 'predicate'));
}

function predicate(n: CstNode): A.Expr {
  const c = kids(n);
  let value = concatExpr(node(c, 'value'));
  for (const partNode of (c.parts as CstNode[] | undefined) ?? []) {
    const p = kids(partNode);
    const pos = value.pos;
    const not = has(p, 'NOT');
    if (has(p, 'op')) {
      const image = tok(p, 'op').image;
      const op = (image === '!=' ? '<>' : image) as A.BinaryOp;
      value = { kind: 'binary', pos, op, left: value, right: concatExpr(node(p, 'right')) };
    } else if (has(p, 'IS')) {
      const test = tok(p, 'test').tokenType.name as 'NULL' | 'MISSING' | 'TRUE' | 'FALSE';
      value = { kind: 'is', pos, not, value, test };
    } else if (has(p, 'IN')) {
      value = { kind: 'in', pos, not, value, list: (p.list as CstNode[]).map(expression) };
    } else if (has(p, 'BETWEEN')) {
      value = { kind: 'between', pos, not, value, low: concatExpr(node(p, 'low')), high: concatExpr(node(p, 'high')) };
    } else {
      const escape = has(p, 'escape') ? concatExpr(node(p, 'escape')) : undefined;
      value = { kind: 'like', pos, not, value, pattern: concatExpr(node(p, 'pattern')), escape };
      if (dialect === 'ceph') value.brackets = true;
    }
  }
  return value;
}

function concatExpr(n: CstNode): A.Expr {
  return binaryChain(n, additiveExpr, '||');
}
function additiveExpr(n: CstNode): A.Expr {
  return binaryChain(n, multiplicativeExpr);
}
function multiplicativeExpr(n: CstNode): A.Expr {
  return binaryChain(n, unaryExpr);
}
function unaryExpr(n: CstNode): A.Expr {
  const c = kids(n);
  if (has(c, 'op')) {
    const t = tok(c, 'op');
    const operand = unaryExpr(node(c, 'unaryExpr'));
    // Fold -literal so that LIMIT-like constants and IN lists stay literals.
    if (
      t.image === '-' &&
      operand.kind === 'literal' &&
      (operand.literal.type === 'int' || operand.literal.type === 'decimal')
    ) {
      const lit = operand.literal;
      if (lit.type === 'int')
        return {
          kind: 'literal',
          pos: posOf(t),
          literal: { type: 'int', value: typeof lit.value === 'bigint' ? -lit.value : -lit.value },
        };
      // A folded -(-1.5) is 1.5 again, not the text --1.5.
      const text = lit.text.startsWith('-') ? lit.text.slice(1) : `-${lit.text}`;
      return { kind: 'literal', pos: posOf(t), literal: { type: 'decimal', value: -lit.value, text } };
    }
    return { kind: 'unary', pos: posOf(t), op: t.image as '-' | '+', operand };
  }
  return primary(node(c, 'primary'));
}

function primary(n: CstNode): A.Expr {
  const c = kids(n);
  if (has(c, 'literal')) return literal(node(c, 'literal'));
  if (has(c, 'expression')) return expression(node(c, 'expression'));
  if (has(c, 'caseExpr')) return caseExpr(node(c, 'caseExpr'));
  if (has(c, 'castExpr')) return castExpr(node(c, 'castExpr'));
  if (has(c, 'extractExpr')) {
    const e = kids(node(c, 'extractExpr'));
    return {
      kind: 'extract',
      pos: posOf(tok(e, 'EXTRACT')),
      part: datePartOf(tok(e, 'part')),
      value: expression(node(e, 'expression')),
    };
  }
  if (has(c, 'substringExpr')) {
    const e = kids(node(c, 'substringExpr'));
    return {
      kind: 'substring',
      pos: posOf(tok(e, 'SUBSTRING')),
      value: expression(node(e, 'value')),
      start: expression(node(e, 'start')),
      length: has(e, 'length') ? expression(node(e, 'length')) : undefined,
    };
  }
  if (has(c, 'trimExpr')) return trimExpr(node(c, 'trimExpr'));
  if (has(c, 'functionCall')) return functionCall(node(c, 'functionCall'));
  return pathExpr(node(c, 'pathExpr'));
}

function literal(n: CstNode): A.Expr {
  const t = firstToken(n);
  const pos = posOf(t);
  switch (t.tokenType) {
    case T.IntegerLiteral: {
      const v = Number(t.image);
      return { kind: 'literal', pos, literal: { type: 'int', value: Number.isSafeInteger(v) ? v : BigInt(t.image) } };
    }
    case T.DecimalLiteral:
      return { kind: 'literal', pos, literal: { type: 'decimal', value: Number(t.image), text: t.image } };
    case T.StringLiteral: {
      // Under the ceph dialect "text" is a string too (sql/ceph.ts re-types it): its quote doubles the same way.
      const q = t.image[0];
      const value = t.image.slice(1, -1).replaceAll(q + q, q);
      return { kind: 'literal', pos, literal: { type: 'string', value } };
    }
    case T.TimestampLiteral:
      return { kind: 'literal', pos, literal: { type: 'timestamp', text: t.image.slice(1, -1) } };
    case T.True:
      return { kind: 'literal', pos, literal: { type: 'bool', value: true } };
    case T.False:
      return { kind: 'literal', pos, literal: { type: 'bool', value: false } };
    case T.Null:
      return { kind: 'literal', pos, literal: { type: 'null' } };
    default:
      return { kind: 'literal', pos, literal: { type: 'missing' } };
  }
}

function caseExpr(n: CstNode): A.Expr {
  const c = kids(n);
  // biome-ignore lint/suspicious/noThenProperty: CASE's WHEN ... THEN, not a thenable
  const whens = (c.when as CstNode[]).map((w, i) => ({ when: expression(w), then: expression(node(c, 'then', i)) }));
  return {
    kind: 'case',
    pos: posOf(tok(c, 'CASE')),
    operand: has(c, 'operand') ? expression(node(c, 'operand')) : undefined,
    whens,
    else: has(c, 'else') ? expression(node(c, 'else')) : undefined,
  };
}

function castExpr(n: CstNode): A.Expr {
  const c = kids(n);
  const t = tok(c, 'type');
  const to = CAST_TYPES[t.image.toLowerCase()];
  if (!to) fail('ParseExpectedTypeName', t);
  return { kind: 'cast', pos: posOf(tok(c, 'CAST')), value: expression(node(c, 'expression')), to };
}

function trimExpr(n: CstNode): A.Expr {
  const c = kids(n);
  const pos = posOf(tok(c, 'TRIM'));
  if (has(c, 'where')) {
    const where = tok(c, 'where').tokenType.name as 'LEADING' | 'TRAILING' | 'BOTH';
    return {
      kind: 'trim',
      pos,
      where,
      chars: has(c, 'chars') ? expression(node(c, 'chars')) : undefined,
      value: expression(node(c, 'value')),
    };
  }
  const first = expression(node(c, 'first'));
  if (has(c, 'value')) return { kind: 'trim', pos, where: 'BOTH', chars: first, value: expression(node(c, 'value')) };
  return { kind: 'trim', pos, where: 'BOTH', value: first };
}

function datePartOf(t: IToken): A.DatePart {
  const p = t.image.toLowerCase();
  if (!DATE_PARTS.has(p)) fail('ParseExpectedDatePart', t);
  return p as A.DatePart;
}

/**
 * The dialect of the statement being converted. Conversion is synchronous and parseChecked sets it first,
 * so two statements never mix (threading it through every rule would touch each of them for one lookup).
 */
let dialect: A.Dialect = 'aws';

function functionCall(n: CstNode): A.Expr {
  const c = kids(n);
  const nameTok = tok(c, 'name');
  const name = nameTok.image.toLowerCase();
  const pos = posOf(nameTok);
  const argNodes = (c.args as CstNode[] | undefined) ?? [];
  const agg = name.toUpperCase() as A.AggregateName;
  if (Object.hasOwn(AGGREGATES, agg)) {
    if (has(c, 'star')) {
      if (agg !== 'COUNT') fail('ParseUnsupportedCallWithStar', nameTok);
      return { kind: 'aggregate', pos, name: agg, arg: '*' };
    }
    if (argNodes.length !== 1) fail('ParseNonUnaryAgregateFunctionCall', nameTok);
    return { kind: 'aggregate', pos, name: agg, arg: expression(argNodes[0]) };
  }
  // The function registry (exec/functions.ts) declares names and arities; the ceph dialect adds its own.
  const cephArity = dialect === 'ceph' ? functionArity(name, 'ceph') : undefined;
  const arity = cephArity ?? functionArity(name);
  if (!arity) fail('UnsupportedFunction', nameTok, `Unsupported function: ${nameTok.image}`);
  if (has(c, 'star')) fail('ParseUnsupportedCallWithStar', nameTok);
  if (argNodes.length < arity[0] || argNodes.length > arity[1]) fail('EvaluatorInvalidArguments', nameTok);
  const args = argNodes.map((a, i) =>
    (name === 'date_add' || name === 'date_diff') && i === 0 ? datePartArg(a) : expression(a),
  );
  return cephArity ? { kind: 'call', pos, name, args, ceph: true } : { kind: 'call', pos, name, args };
}

/** The first argument of DATE_ADD / DATE_DIFF: a bare date part word. */
function datePartArg(n: CstNode): A.Expr {
  const e = expression(n);
  if (e.kind !== 'path' || e.steps.length > 0 || e.root.quoted) fail('ParseExpectedDatePart', e.pos);
  const t = firstToken(n);
  return { kind: 'datePart', pos: e.pos, part: datePartOf(t) };
}

function pathExpr(n: CstNode): A.Expr {
  const c = kids(n);
  const rootTok = tok(c, 'root');
  const steps = ((c.pathStep as CstNode[] | undefined) ?? []).map(pathStep);
  const expr: A.Expr = { kind: 'path', pos: posOf(rootTok), root: nameOf(rootTok), steps };
  // A reserved word may only stand here as a date part (checked by the caller, which re-reads the token).
  (expr as { reserved?: IToken }).reserved = rootTok.tokenType === T.ReservedWord ? rootTok : undefined;
  return expr;
}

function fromClause(n: CstNode): A.FromClause {
  const c = kids(n);
  const table = tok(c, 'table');
  // Ceph also names the object `stdin` (its s3select documentation and s3-tests use both).
  const ceph = dialect === 'ceph' && table.image.toLowerCase() === 'stdin';
  if (table.image.toLowerCase() !== 's3object' && !ceph)
    fail('UnsupportedSqlStructure', table, `Unknown table ${table.image}: only S3Object can be queried`);
  const steps = ((c.pathStep as CstNode[] | undefined) ?? []).map(pathStep);
  // "FROM S3Object[*].path": a path starts by iterating the object's records (AWS s3-select-sql-reference-
  // select.html, FROM clause); S3Object.items or S3Object[0] is no form the reference gives.
  if (steps.length > 0 && steps[0].kind !== 'wildcard') {
    fail('UnsupportedSqlStructure', table, 'A FROM path starts with S3Object[*]');
  }
  // Ceph: `FROM S3Object[*].a.b` iterates the array at a.b (s3-tests count 3 rows of {"root": [3 rows]}).
  if (dialect === 'ceph' && steps.length > 1 && steps.at(-1)!.kind !== 'wildcard') steps.push({ kind: 'wildcard' });
  const implicitAlias = !has(c, 'alias');
  const alias = implicitAlias ? { name: 'S3Object', quoted: false } : nameOf(tok(c, 'alias'));
  return { steps, alias, implicitAlias, pos: posOf(table) };
}

/** Parses SQL text into a checked AST. Throws SelectError with an AWS code and the position. */
export function parseSql(sql: string, dialect: A.Dialect = 'aws'): A.SelectStatement {
  try {
    const stmt = parseChecked(sql, dialect);
    for (const item of stmt.select === '*' ? [] : stmt.select) checkDepth(item.expr);
    if (stmt.where) checkDepth(stmt.where);
    for (const e of stmt.groupBy ?? []) checkDepth(e);
    for (const o of stmt.orderBy ?? []) checkDepth(o.expr);
    return stmt;
  } catch (e) {
    // Pathological nesting can exhaust the parser's own stack.
    if (e instanceof RangeError) throw new SelectError('MaxOperatorsExceeded');
    throw e;
  }
}

function parseChecked(sql: string, statementDialect: A.Dialect): A.SelectStatement {
  dialect = statementDialect;
  const tokens = dialect === 'ceph' ? cephTokens(T.tokenize(sql)) : T.tokenize(sql);
  if (dialect !== 'ceph') {
    // `^` is Ceph's alone: elsewhere it is the character AWS's lexer does not know.
    const caret = tokens.find((t) => t.tokenType === T.Caret);
    if (caret)
      throw new SelectError('LexerInvalidChar', undefined, { line: caret.startLine!, column: caret.startColumn! });
  }
  if (tokens.length === 0) fail('ParseExpectedExpression', undefined, 'The SQL expression is empty.');
  if (tokens[0].tokenType !== T.Select) fail('ParseUnsupportedSelect', tokens[0]);
  const { cst, errors } = parseTokens(tokens);
  if (errors.length > 0) errorFromParser(errors[0], tokens);
  const c = kids(cst);
  if (dialect !== 'cairn') {
    // Clauses beyond AWS: refused with the code AWS gives for them, at their first word.
    for (const key of ['DISTINCT', 'GROUP', 'ORDER']) {
      if (has(c, key)) fail(UNSUPPORTED_CLAUSES[key.toLowerCase()], tok(c, key));
    }
  }

  const listNode = kids(node(c, 'selectList'));
  let select: A.SelectStatement['select'];
  if (has(listNode, 'Star')) select = '*';
  else {
    select = (listNode.selectItem as CstNode[]).map((itemNode) => {
      const ic = kids(itemNode);
      const expr = expression(node(ic, 'expression'));
      checkExpr(expr, true);
      return { expr, alias: has(ic, 'alias') ? nameOf(tok(ic, 'alias')) : undefined, pos: expr.pos };
    });
  }
  const from = fromClause(node(c, 'fromClause'));
  let where: A.Expr | undefined;
  if (has(c, 'where')) {
    where = expression(node(c, 'where'));
    checkExpr(where, false);
  }
  let limit: number | undefined;
  if (has(c, 'limit')) {
    if (has(c, 'Minus')) fail('EvaluatorNegativeLimit', tok(c, 'Minus'));
    limit = Number(tok(c, 'limit').image);
  }
  const used = new Set<string>();
  if (dialect === 'ceph' && select !== '*') where = expandCephAliases(select, where, from.alias, used);
  const stmt: A.SelectStatement = { select, from, where, limit };
  if (used.size > 0) stmt.aliasesUsed = [...used];
  if (dialect !== 'aws') stmt.dialect = dialect;
  if (has(c, 'DISTINCT')) stmt.distinct = true;
  if (has(c, 'groupBy')) {
    stmt.groupBy = (c.groupBy as CstNode[]).map((n) => {
      const e = expression(n);
      checkExpr(e, false);
      return e;
    });
  }
  if (has(c, 'orderBy')) {
    stmt.orderBy = (c.orderBy as CstNode[]).map((n) => {
      const oc = kids(n);
      const e = expression(node(oc, 'expression'));
      checkExpr(e, false);
      return { expr: e, desc: has(oc, 'DESC') };
    });
  }
  return stmt;
}
