// The typed AST of an S3 Select statement. Every node carries the position of its first token.
import type { SqlPosition } from '../errors.js';

export interface Pos extends SqlPosition {
  offset: number;
}

/** A name as written: unquoted names match case-insensitively, "quoted" ones exactly. */
export interface Name {
  name: string;
  quoted: boolean;
  /** The row's alias only: a second name of the row (`S3Object` when the planner named it after its path). */
  other?: Name;
}

export type PathStep =
  | { kind: 'field'; name: Name }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' } // [*] in FROM
  | { kind: 'fieldWildcard' }; // .* in FROM, or alias.* at the end of a SELECT item

export type CastType = 'BOOL' | 'INT' | 'STRING' | 'FLOAT' | 'DECIMAL' | 'TIMESTAMP';
export type DatePart = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'timezone_hour' | 'timezone_minute';
/** `^` (power) only under the ceph dialect. */
export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | '||' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';
export type AggregateName = 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';

export type Literal =
  | { type: 'int'; value: number | bigint }
  | { type: 'decimal'; value: number; text: string }
  | { type: 'string'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'null' }
  | { type: 'missing' }
  | { type: 'timestamp'; text: string };

export type Expr =
  | { kind: 'literal'; pos: Pos; literal: Literal }
  /** A column or path: root name (a table alias, a column, `_N`) then steps. */
  | { kind: 'path'; pos: Pos; root: Name; steps: PathStep[] }
  | { kind: 'unary'; pos: Pos; op: '-' | '+' | 'NOT'; operand: Expr }
  | { kind: 'binary'; pos: Pos; op: BinaryOp; left: Expr; right: Expr }
  /** `brackets` (the ceph dialect): `[...]` in the pattern is a character class. */
  | { kind: 'like'; pos: Pos; not: boolean; value: Expr; pattern: Expr; escape?: Expr; brackets?: boolean }
  | { kind: 'between'; pos: Pos; not: boolean; value: Expr; low: Expr; high: Expr }
  | { kind: 'in'; pos: Pos; not: boolean; value: Expr; list: Expr[] }
  | { kind: 'is'; pos: Pos; not: boolean; value: Expr; test: 'NULL' | 'MISSING' | 'TRUE' | 'FALSE' }
  | { kind: 'case'; pos: Pos; operand?: Expr; whens: Array<{ when: Expr; then: Expr }>; else?: Expr }
  | { kind: 'cast'; pos: Pos; value: Expr; to: CastType }
  | { kind: 'aggregate'; pos: Pos; name: AggregateName; arg: Expr | '*' }
  /** `ceph`: the call names a function of the Ceph dialect (exec/functions.ts, CEPH_FUNCTIONS). */
  | { kind: 'call'; pos: Pos; name: string; args: Expr[]; ceph?: boolean }
  | { kind: 'datePart'; pos: Pos; part: DatePart }
  | { kind: 'extract'; pos: Pos; part: DatePart; value: Expr }
  | { kind: 'substring'; pos: Pos; value: Expr; start: Expr; length?: Expr }
  | { kind: 'trim'; pos: Pos; where: 'LEADING' | 'TRAILING' | 'BOTH'; chars?: Expr; value: Expr };

export interface SelectItem {
  expr: Expr;
  alias?: Name;
  pos: Pos;
}

export interface FromClause {
  /** Steps after S3Object (JSON only): `S3Object[*].a.b`. */
  steps: PathStep[];
  alias: Name;
  /** No alias was written: the planner may name the row after the path (plan/plan.ts, JSON FROM paths). */
  implicitAlias?: boolean;
  pos: Pos;
}

export interface OrderItem {
  expr: Expr;
  desc: boolean;
}

/**
 * `aws` (the default): the S3 Select reference's SQL. `cairn`: also DISTINCT, GROUP BY and ORDER BY.
 * `ceph`: Ceph RGW's s3select (docs.ceph.com/en/latest/radosgw/s3select): "text" is a string, `stdin` names
 * the object, `==` compares, INT() and FLOAT() cast, SELECT aliases may be used in other items and WHERE,
 * CSV empty fields are NULL (the README's "S3 Select beyond AWS" lists it all; sql/ceph.ts).
 */
export type Dialect = 'aws' | 'cairn' | 'ceph';
export const DIALECTS: readonly Dialect[] = ['aws', 'cairn', 'ceph'];

export interface SelectStatement {
  /** `'*'` for SELECT *, otherwise the items (an item may be `alias.*`). */
  select: '*' | SelectItem[];
  from: FromClause;
  where?: Expr;
  limit?: number;
  /** The `cairn` dialect's clauses (beyond AWS). */
  distinct?: boolean;
  groupBy?: Expr[];
  orderBy?: OrderItem[];
  /** The dialect the statement was parsed under, when not `aws` (the planner and compiler follow it). */
  dialect?: Dialect;
  /** Ceph: the SELECT aliases other items or WHERE use (sql/ceph.ts), lower-cased. */
  aliasesUsed?: string[];
}

/** The direct sub-expressions of an expression, in source order. */
export function childrenOf(e: Expr): Expr[] {
  switch (e.kind) {
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'like':
      return e.escape ? [e.value, e.pattern, e.escape] : [e.value, e.pattern];
    case 'between':
      return [e.value, e.low, e.high];
    case 'in':
      return [e.value, ...e.list];
    case 'is':
    case 'cast':
    case 'extract':
      return [e.value];
    case 'case':
      return [
        ...(e.operand ? [e.operand] : []),
        ...e.whens.flatMap((w) => [w.when, w.then]),
        ...(e.else ? [e.else] : []),
      ];
    case 'aggregate':
      return e.arg === '*' ? [] : [e.arg];
    case 'call':
      return e.args;
    case 'substring':
      return e.length ? [e.value, e.start, e.length] : [e.value, e.start];
    case 'trim':
      return e.chars ? [e.chars, e.value] : [e.value];
    default:
      return [];
  }
}
