// Checks the grammar leaves to the AST: reserved words used as names, misplaced wildcards, nesting depth.
import type { IToken } from 'chevrotain';
import { SelectError } from '../errors.js';
import * as A from './ast.js';
import { UNSUPPORTED_CLAUSES } from './parse-errors.js';

function fail(code: ConstructorParameters<typeof SelectError>[0], t: IToken | A.Pos, message?: string): never {
  const pos =
    'image' in t ? { line: t.startLine ?? 1, column: t.startColumn ?? 1 } : { line: t.line, column: t.column };
  throw new SelectError(code, message, pos);
}

/** Walks an expression; rejects reserved words used as names and misplaced wildcards. */
export function checkExpr(e: A.Expr, allowTrailingStar: boolean): void {
  switch (e.kind) {
    case 'path': {
      const reserved = (e as { reserved?: IToken }).reserved;
      if (reserved)
        fail(
          UNSUPPORTED_CLAUSES[reserved.image.toLowerCase()] ?? 'ParseUnExpectedKeyword',
          reserved,
          `Unexpected keyword: ${reserved.image}`,
        );
      e.steps.forEach((s, i) => {
        if (s.kind === 'wildcard') fail('ParseCannotMixSqbAndWildcardInSelectList', e.pos);
        if (s.kind === 'fieldWildcard' && !(allowTrailingStar && i === e.steps.length - 1))
          fail('ParseInvalidContextForWildcardInSelectList', e.pos);
      });
      return;
    }
    case 'literal':
    case 'datePart':
      return;
    case 'unary':
      return checkExpr(e.operand, false);
    case 'binary':
      checkExpr(e.left, false);
      return checkExpr(e.right, false);
    case 'like':
      checkExpr(e.value, false);
      checkExpr(e.pattern, false);
      if (e.escape) checkExpr(e.escape, false);
      return;
    case 'between':
      [e.value, e.low, e.high].forEach((x) => checkExpr(x, false));
      return;
    case 'in':
      checkExpr(e.value, false);
      e.list.forEach((x) => checkExpr(x, false));
      return;
    case 'is':
    case 'cast':
    case 'extract':
      return checkExpr(e.value, false);
    case 'case':
      if (e.operand) checkExpr(e.operand, false);
      e.whens.forEach((w) => (checkExpr(w.when, false), checkExpr(w.then, false)));
      if (e.else) checkExpr(e.else, false);
      return;
    case 'aggregate':
      if (e.arg !== '*') checkExpr(e.arg, false);
      return;
    case 'call':
      e.args.forEach((x) => checkExpr(x, false));
      return;
    case 'substring':
      [e.value, e.start, ...(e.length ? [e.length] : [])].forEach((x) => checkExpr(x, false));
      return;
    case 'trim':
      checkExpr(e.value, false);
      if (e.chars) checkExpr(e.chars, false);
      return;
  }
}

/** Nesting deeper than this is refused (MaxOperatorsExceeded) rather than risking the stack per row. */
const MAX_DEPTH = 1000;

export function checkDepth(e: A.Expr, d = 1): void {
  if (d > MAX_DEPTH) throw new SelectError('MaxOperatorsExceeded', undefined, e.pos);
  for (const c of A.childrenOf(e)) checkDepth(c, d + 1);
}
