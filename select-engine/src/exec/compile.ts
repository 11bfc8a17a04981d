// Expression compiler: AST -> closures over a row, built once per query. Nothing here walks the AST per row.
// Field access is resolved by the Binding (plan/bind.ts) at compile time: an index for CSV, a key for JSON.
import { SelectError } from '../errors.js';
import { childrenOf } from '../sql/ast.js';
import type * as A from '../sql/ast.js';
import { caseExpr, inExpr, likeExpr } from './predicates.js';
import { compileFunction, type ArgumentNode } from './functions.js';
import { strict1, strict2, strict3 } from './nulls.js';
import { asDecimal, caster, compare, Decimal, equals, toNumber, Timestamp, valueToText, type Value } from './values.js';
import { parseTimestamp } from './timestamp.js';
import { exactInt, inInt64, int64, intArithmetic } from './int64.js';
import { MAX_RECORD_BYTES } from '../formats/errors.js';

export type Row = unknown;
export type Fn = (row: Row) => Value;
/** What the compiler knows of a value's type before running (used for int vs float division). */
export type StaticType = 'int' | 'float' | 'decimal' | 'string' | 'bool' | 'timestamp' | 'null' | 'any';

export interface Compiled {
  fn: Fn;
  type: StaticType;
  /** Set when the expression is a constant: its value (lets LIKE, IN and TO_STRING precompile). */
  constant?: { value: Value };
}

export interface Binding {
  /** Compiles the access to a path (a column, a nested field, or the whole row). */
  path(e: Extract<A.Expr, { kind: 'path' }>): Fn;
  /** The path's type when the input declares it (a Parquet column's), else 'any'. */
  pathType?(e: Extract<A.Expr, { kind: 'path' }>): StaticType;
}

export interface CompileContext {
  binding: Binding;
  /** Query start time (UTCNOW is the same for every row). */
  nowMs: number;
  /** In an aggregate query's SELECT list: the slot reader of each aggregate call, in order of appearance. */
  aggregate?: (e: Extract<A.Expr, { kind: 'aggregate' }>) => Fn;
  /** Under GROUP BY: the group's value of an expression it is grouped by (exec/grouping.ts). */
  substitute?: (e: A.Expr) => Compiled | undefined;
}

function constant(value: Value, type: StaticType): Compiled {
  return { fn: () => value, type, constant: { value } };
}

function typeError(op: string, a: Value, b?: Value): never {
  const desc = (v: Value) =>
    v instanceof Timestamp
      ? 'TIMESTAMP'
      : v instanceof Decimal
        ? 'DECIMAL'
        : typeof v === 'object'
          ? 'STRUCT'
          : typeof v;
  throw new SelectError(
    'EvaluatorInvalidArguments',
    `Operator ${op} cannot be applied to ${desc(a)}${b === undefined ? '' : ` and ${desc(b)}`}`,
  );
}

function badLiteral(text: string): never {
  throw new SelectError('LexerInvalidLiteral', `Invalid numeric literal ${text.slice(0, 40)}`);
}

function literal(l: A.Literal): Compiled {
  switch (l.type) {
    case 'int':
      if (typeof l.value === 'bigint' && !inInt64(l.value)) {
        throw new SelectError('IntegerOverflow', 'Integer literal outside the 64-bit range');
      }
      return constant(l.value, 'int');
    case 'decimal':
      // 1.50 is an exact DECIMAL (its scale kept); 1.5e3 is a FLOAT, as in Ion.
      if (/[eE]/.test(l.text)) return constant(l.value, 'float');
      return constant(Decimal.parse(l.text) ?? badLiteral(l.text), 'decimal');
    case 'string':
      return constant(l.value, 'string');
    case 'bool':
      return constant(l.value, 'bool');
    case 'null':
      return constant(null, 'null');
    case 'missing':
      return constant(undefined, 'null');
    case 'timestamp': {
      const ts = parseTimestamp(l.text);
      if (!ts) throw new SelectError('LexerInvalidLiteral', `Invalid timestamp literal \`${l.text}\``);
      return constant(ts, 'timestamp');
    }
  }
}

/** Exact arithmetic when a DECIMAL takes part with another exact operand (DECIMAL, integer, numeric text). */
function decimalArithmetic(op: string, a: Decimal, b: Decimal): Value {
  switch (op) {
    case '+':
      return a.add(b);
    case '-':
      return a.sub(b);
    case '*':
      return a.mul(b);
    default:
      if (b.isZero()) throw new SelectError('EvaluatorInvalidArguments', 'Division by zero');
      return op === '/' ? a.div(b) : a.mod(b);
  }
}

function numberArithmetic(op: string, x: number, y: number, intDivision: boolean): number {
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      if (y === 0) throw new SelectError('EvaluatorInvalidArguments', 'Division by zero');
      // A number past 2^53 is a FLOAT (an INT that large is a bigint): 1e17 / 3e16 is 3.3333333333333335, not 3.
      return intDivision && Number.isSafeInteger(x) && Number.isSafeInteger(y) ? Math.trunc(x / y) : x / y;
    case '^': {
      // Ceph's power (s3select_oper.h binop_pow): pow() on doubles, cut back to an integer when both are.
      const p = x ** y;
      return intDivision && Number.isInteger(x) && Number.isInteger(y) ? Math.trunc(p) : p;
    }
    default:
      if (y === 0) throw new SelectError('EvaluatorInvalidArguments', 'Division by zero');
      return x % y;
  }
}

/**
 * Arithmetic on two non-null values. Numbers take the fast path (ints stay ints unless a float is involved,
 * statically or at run time); INTs are exact 64-bit integers (int64.ts); a DECIMAL with an exact operand stays
 * exact; numeric text reads as a number. `intStatic`: both operands are known INTs, so a result past 64 bits is
 * IntegerOverflow; when one may be a FLOAT holding an integral value (a JSON or Parquet number) it stays a FLOAT.
 */
function arithmetic(op: string, floatStatic: boolean, intStatic: boolean): (a: Value, b: Value) => Value {
  const intDivision = !floatStatic;
  // Power has no exact form: a pow() on doubles, as in Ceph (s3select_oper.h binop_pow), whatever the operands.
  const exact = intDivision && op !== '^';
  const power = op === '^' && intDivision;
  return (a, b) => {
    if (typeof a === 'number' && typeof b === 'number') {
      const r = numberArithmetic(op, a, b, intDivision);
      if (power) return powerInt(r, a, b);
      // Two INTs whose sum, difference or product leaves the safe range: the double is rounded, redo it in 64 bits.
      if (exact && !Number.isSafeInteger(r) && Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
        const big = intArithmetic(op, BigInt(a), BigInt(b), !intStatic);
        return big === undefined ? r : big;
      }
      return r;
    }
    if (op !== '^' && (a instanceof Decimal || b instanceof Decimal)) {
      const x = asDecimal(a);
      const y = asDecimal(b);
      if (x && y) return decimalArithmetic(op, x, y);
    }
    // An INT past 2^53 (a bigint) with another INT: exact (two safe integers took the first path, so one is a
    // bigint). A bigint is never a FLOAT, so overflow is an error.
    if (exact) {
      const x = exactInt(a);
      const y = exactInt(b);
      if (x !== undefined && y !== undefined) return intArithmetic(op, x, y, false)!;
    }
    const x = toNumber(a);
    const y = toNumber(b);
    if (Number.isNaN(x) || Number.isNaN(y)) typeError(op, a, b);
    const r = numberArithmetic(op, x, y, intDivision);
    return power ? powerInt(r, x, y) : r;
  };
}

/**
 * `x ^ y` of two integers as Ceph gives it: the double pow() made an int64 (s3select_oper.h compute), so past 2^53
 * the exact integer the double holds (2 ^ 62 is 4611686018427387904, where a double prints 4611686018427388000).
 * Past 64 bits, where Ceph's conversion is undefined, the double stays.
 */
function powerInt(r: number, x: number, y: number): number | bigint {
  if (Number.isSafeInteger(r) || !Number.isInteger(r) || !Number.isInteger(x) || !Number.isInteger(y)) return r;
  const big = BigInt(r);
  return inInt64(big) ? big : r;
}

/**
 * Values of different kinds (text and a number, ...) are never equal, and cannot be ordered: AWS fails the query
 * (ExternalEvalException, seen comparing a CSV field with a number without CAST) rather than convert.
 */
function notComparable(op: string, a: Value, b: Value): never {
  const kind = (v: Value) =>
    typeof v === 'string'
      ? 'text'
      : v instanceof Timestamp
        ? 'a timestamp'
        : typeof v === 'boolean'
          ? 'a boolean'
          : typeof v === 'object' && !(v instanceof Decimal)
            ? 'a structure'
            : 'a number';
  const message = `Operator ${op} cannot compare ${kind(a)} with ${kind(b)} (CAST one of them)`;
  throw new SelectError('ExternalEvalException', message);
}

/** An ordering comparison's truth from compare(): NULL for a NaN FLOAT, an error for values of different kinds. */
function ordered(op: string, test: (c: number) => boolean): (a: Value, b: Value) => Value {
  return (a, b) => {
    const c = compare(a, b);
    if (c === undefined) return notComparable(op, a, b);
    return Number.isNaN(c) ? null : test(c);
  };
}

function comparison(op: A.BinaryOp): (a: Value, b: Value) => Value {
  switch (op) {
    case '=':
      return (a, b) => equals(a, b);
    case '<>':
      return (a, b) => !equals(a, b);
    case '<':
      return ordered(op, (c) => c < 0);
    case '<=':
      return ordered(op, (c) => c <= 0);
    case '>':
      return ordered(op, (c) => c > 0);
    default:
      return ordered(op, (c) => c >= 0);
  }
}

/** The operands of a chain of the same AND / OR (a OR b OR c ...), in order: evaluated in a loop. */
function chain(e: A.Expr, op: 'AND' | 'OR', out: A.Expr[]): A.Expr[] {
  const stack: A.Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'binary' && x.op === op) stack.push(x.right, x.left);
    else out.push(x);
  }
  return out;
}

function logical(e: Extract<A.Expr, { kind: 'binary' }>, ctx: CompileContext): Compiled {
  const op = e.op as 'AND' | 'OR';
  const fns = chain(e, op, []).map((x) => compileExpr(x, ctx).fn);
  const n = fns.length;
  // Three-valued logic: the deciding value (false for AND, true for OR) wins wherever it stands, then NULL/MISSING;
  // an operand that is not a truth value (5 AND TRUE) fails only when no operand decides (5 AND FALSE is FALSE).
  const decide = op === 'OR';
  return {
    type: 'bool',
    fn: (row) => {
      let unknown = false;
      let bad: Value = null;
      for (let i = 0; i < n; i++) {
        const v = fns[i](row);
        if (v === decide) return decide;
        if (v == null) unknown = true;
        else if (v !== !decide) bad = v;
      }
      if (bad != null) typeError(op, bad);
      return unknown ? null : !decide;
    },
  };
}

function binary(e: Extract<A.Expr, { kind: 'binary' }>, ctx: CompileContext): Compiled {
  if (e.op === 'AND' || e.op === 'OR') return logical(e, ctx);
  const l = compileExpr(e.left, ctx);
  const r = compileExpr(e.right, ctx);
  const lf = l.fn;
  const rf = r.fn;
  switch (e.op) {
    case '||':
      return {
        type: 'string',
        fn: strict2(lf, rf, (a, b) => {
          const joined = typeof a === 'string' && typeof b === 'string' ? a + b : valueToText(a) + valueToText(b);
          // No value may outgrow a record: `_1 || _1 || ...` over a 1 MB field would otherwise build strings of
          // hundreds of MB per row (and past V8's limit, an InternalError). UTF-16 units never exceed UTF-8 bytes.
          if (joined.length > MAX_RECORD_BYTES) throw new SelectError('OverMaxRecordSize');
          return joined;
        }),
      };
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '^': {
      const floatStatic = l.type === 'float' || r.type === 'float';
      const intStatic = l.type === 'int' && r.type === 'int';
      const f = arithmetic(e.op, floatStatic, intStatic);
      const type: StaticType = floatStatic ? 'float' : intStatic ? 'int' : 'any';
      return { type, fn: strict2(lf, rf, f) };
    }
    default: {
      const f = comparison(e.op);
      // Fast path: column = 'literal' over strings (the common CSV filter).
      if (e.op === '=' && r.constant && typeof r.constant.value === 'string') {
        const k = r.constant.value;
        return { type: 'bool', fn: strict1(lf, (a) => (typeof a === 'string' ? a === k : f(a, k))) };
      }
      // Fast path: value op number-constant (numbers compare directly; anything else takes the general path).
      // A DECIMAL constant takes the general path: as a double, 2.99999999999999999 would equal 3. So does a NaN
      // on either side, whose ordering is NULL (ordered()), where `<` of numbers would be false.
      if (r.constant && typeof r.constant.value === 'number' && !Number.isNaN(r.constant.value)) {
        const k = r.constant.value;
        const num = numberTest(e.op, k);
        return { type: 'bool', fn: strict1(lf, (a) => (typeof a === 'number' && !Number.isNaN(a) ? num(a) : f(a, k))) };
      }
      return { type: 'bool', fn: strict2(lf, rf, f) };
    }
  }
}

function numberTest(op: A.BinaryOp, k: number): (a: number) => boolean {
  switch (op) {
    case '=':
      return (a) => a === k;
    case '<>':
      return (a) => a !== k;
    case '<':
      return (a) => a < k;
    case '<=':
      return (a) => a <= k;
    case '>':
      return (a) => a > k;
    default:
      return (a) => a >= k;
  }
}

/** Constant folding: an operator over constants is computed once per query instead of once per row. */
function fold(c: Compiled, operands: A.Expr[]): Compiled {
  if (c.constant || !operands.every(isConstant)) return c;
  try {
    return constant(c.fn(undefined), c.type);
  } catch {
    return c; // an error stays where it is: raised only if a row evaluates it (CASE may never reach it)
  }
}

function isConstant(e: A.Expr): boolean {
  if (e.kind === 'literal') return true;
  if (e.kind === 'unary' || e.kind === 'binary' || e.kind === 'cast') return childrenOf(e).every(isConstant);
  return false;
}

/** Compiles an expression to a closure. Throws SelectError for anything wrong found at compile time. */
export function compileExpr(e: A.Expr, ctx: CompileContext): Compiled {
  const grouped = ctx.substitute?.(e);
  if (grouped) return grouped;
  const sub = (x: A.Expr) => compileExpr(x, ctx);
  switch (e.kind) {
    case 'literal':
      return literal(e.literal);
    case 'path':
      return { fn: ctx.binding.path(e), type: ctx.binding.pathType?.(e) ?? 'any' };
    case 'unary': {
      const o = compileExpr(e.operand, ctx);
      const f = o.fn;
      if (e.op === 'NOT') {
        return { type: 'bool', fn: strict1(f, (a) => (typeof a === 'boolean' ? !a : typeError('NOT', a))) };
      }
      if (e.op === '+') return o;
      return {
        type: o.type,
        fn: strict1(f, (a) => {
          if (typeof a === 'bigint') return int64(-a); // -(-2^63) is past 64 bits
          if (a instanceof Decimal) return a.neg();
          const x = toNumber(a);
          if (Number.isNaN(x)) typeError('-', a);
          return -x;
        }),
      };
    }
    case 'binary':
      return fold(binary(e, ctx), [e.left, e.right]);
    case 'like':
      return likeExpr(e, sub);
    case 'between': {
      const v = compileExpr(e.value, ctx).fn;
      const lo = compileExpr(e.low, ctx).fn;
      const hi = compileExpr(e.high, ctx).fn;
      const not = e.not;
      return {
        type: 'bool',
        fn: strict3(v, lo, hi, (a, b, c) => {
          const x = compare(a, b);
          const y = compare(a, c);
          if (x === undefined) return notComparable('BETWEEN', a, b);
          if (y === undefined) return notComparable('BETWEEN', a, c);
          if (Number.isNaN(x) || Number.isNaN(y)) return null;
          return (x >= 0 && y <= 0) !== not;
        }),
      };
    }
    case 'in':
      return inExpr(e, sub);
    case 'is': {
      const v = compileExpr(e.value, ctx).fn;
      const not = e.not;
      switch (e.test) {
        case 'NULL':
          return { type: 'bool', fn: (row) => (v(row) == null) !== not };
        case 'MISSING':
          return { type: 'bool', fn: (row) => (v(row) === undefined) !== not };
        case 'TRUE':
          return { type: 'bool', fn: (row) => (v(row) === true) !== not };
        default:
          return { type: 'bool', fn: (row) => (v(row) === false) !== not };
      }
    }
    case 'case':
      return caseExpr(e, sub);
    case 'cast': {
      const v = compileExpr(e.value, ctx);
      const f = caster(e.to);
      const type: StaticType =
        e.to === 'INT'
          ? 'int'
          : e.to === 'FLOAT'
            ? 'float'
            : e.to === 'DECIMAL'
              ? 'decimal'
              : e.to === 'STRING'
                ? 'string'
                : e.to === 'BOOL'
                  ? 'bool'
                  : 'timestamp';
      if (v.constant) {
        const c = v.constant.value;
        return constant(c === null || c === undefined ? c : f(c), type);
      }
      return { type, fn: strict1(v.fn, f) };
    }
    case 'aggregate':
      if (!ctx.aggregate)
        throw new SelectError(
          'UnsupportedSqlOperation',
          'Aggregate functions are allowed only in the SELECT list',
          e.pos,
        );
      return { type: 'any', fn: ctx.aggregate(e) };
    case 'datePart':
      throw new SelectError('ParseExpectedExpression', undefined, e.pos);
    case 'call':
    case 'extract':
    case 'substring':
    case 'trim': {
      const [name, args] = callOf(e);
      const ceph = e.kind === 'call' && e.ceph === true;
      return compileFunction(name, args, sub, { nowMs: ctx.nowMs, pos: e.pos }, ceph ? 'ceph' : undefined);
    }
  }
}

/** A function call, or EXTRACT / SUBSTRING / TRIM (their own syntax), as the function and its arguments. */
function callOf(e: Extract<A.Expr, { kind: 'call' | 'extract' | 'substring' | 'trim' }>): [string, ArgumentNode[]] {
  switch (e.kind) {
    case 'call':
      return [e.name, e.args.map((a) => (a.kind === 'datePart' ? { kind: 'keyword', value: a.part } : a))];
    case 'extract':
      return ['extract', [{ kind: 'keyword', value: e.part }, e.value]];
    case 'substring':
      return ['substring', e.length ? [e.value, e.start, e.length] : [e.value, e.start]];
    case 'trim': {
      const side: ArgumentNode = { kind: 'keyword', value: e.where };
      return ['trim', e.chars ? [side, e.value, e.chars] : [side, e.value]];
    }
  }
}
