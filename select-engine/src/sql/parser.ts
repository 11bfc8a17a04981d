// The S3 Select grammar (Chevrotain CstParser): grammar only; to-ast.ts turns the CST into the AST.
// Precedence, loosest first: OR, AND, NOT, comparison / IS / IN / BETWEEN / LIKE, ||, + -, * / %, unary.
import {
  CstParser,
  EOF,
  type CstNode,
  type IToken,
  type IParserErrorMessageProvider,
  type TokenType,
} from 'chevrotain';
import * as T from './tokens.js';

/** Error messages are JSON so that to-ast can turn them into AWS codes (see errorFromParser). */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, ruleName }) {
    return JSON.stringify({ kind: 'mismatch', expected: expected.name, actual: actual.tokenType.name, ruleName });
  },
  buildNotAllInputParsedMessage({ firstRedundant, ruleName }) {
    return JSON.stringify({ kind: 'redundant', actual: firstRedundant.tokenType.name, ruleName });
  },
  buildNoViableAltMessage({ actual, ruleName }) {
    return JSON.stringify({ kind: 'noalt', actual: actual[0]?.tokenType.name, ruleName });
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    return JSON.stringify({ kind: 'earlyexit', actual: actual[0]?.tokenType.name, ruleName });
  },
};

class SelectParser extends CstParser {
  constructor() {
    super(T.allTokens, { maxLookahead: 3, recoveryEnabled: false, errorMessageProvider: messages });
    this.performSelfAnalysis();
  }

  statement = this.RULE('statement', () => {
    this.CONSUME(T.Select);
    this.OPTION5(() => this.CONSUME(T.Distinct));
    this.SUBRULE(this.selectList);
    this.CONSUME(T.From);
    this.SUBRULE(this.fromClause);
    this.OPTION(() => {
      this.CONSUME(T.Where);
      this.SUBRULE(this.expression, { LABEL: 'where' });
    });
    this.OPTION6(() => {
      this.CONSUME(T.Group);
      this.CONSUME(T.By);
      this.SUBRULE2(this.expression, { LABEL: 'groupBy' });
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE3(this.expression, { LABEL: 'groupBy' });
      });
    });
    this.OPTION7(() => {
      this.CONSUME(T.Order);
      this.CONSUME2(T.By);
      this.SUBRULE(this.orderItem, { LABEL: 'orderBy' });
      this.MANY2(() => {
        this.CONSUME2(T.Comma);
        this.SUBRULE2(this.orderItem, { LABEL: 'orderBy' });
      });
    });
    this.OPTION2(() => {
      this.CONSUME(T.Limit);
      this.OPTION3(() => this.CONSUME(T.Minus));
      this.CONSUME(T.IntegerLiteral, { LABEL: 'limit' });
    });
    this.OPTION4(() => this.CONSUME(T.Semicolon));
    this.CONSUME(EOF);
  });

  orderItem = this.RULE('orderItem', () => {
    this.SUBRULE(this.expression);
    this.OPTION(() => this.OR([{ ALT: () => this.CONSUME(T.Asc) }, { ALT: () => this.CONSUME(T.Desc) }]));
  });

  selectList = this.RULE('selectList', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Star) },
      {
        ALT: () => {
          this.SUBRULE(this.selectItem);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.SUBRULE2(this.selectItem);
          });
        },
      },
    ]);
  });

  selectItem = this.RULE('selectItem', () => {
    this.SUBRULE(this.expression);
    this.OPTION(() => {
      this.OPTION2(() => this.CONSUME(T.As));
      this.OR([
        { ALT: () => this.CONSUME(T.Identifier, { LABEL: 'alias' }) },
        { ALT: () => this.CONSUME(T.QuotedIdentifier, { LABEL: 'alias' }) },
      ]);
    });
  });

  fromClause = this.RULE('fromClause', () => {
    this.CONSUME(T.Identifier, { LABEL: 'table' });
    this.MANY(() => this.SUBRULE(this.pathStep));
    this.OPTION(() => {
      this.OPTION2(() => this.CONSUME(T.As));
      this.OR([
        { ALT: () => this.CONSUME2(T.Identifier, { LABEL: 'alias' }) },
        { ALT: () => this.CONSUME(T.QuotedIdentifier, { LABEL: 'alias' }) },
      ]);
    });
  });

  pathStep = this.RULE('pathStep', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Dot);
          this.OR2([
            { ALT: () => this.CONSUME(T.Identifier, { LABEL: 'name' }) },
            { ALT: () => this.CONSUME(T.QuotedIdentifier, { LABEL: 'name' }) },
            { ALT: () => this.CONSUME(T.Star, { LABEL: 'star' }) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LSquare);
          this.OR3([
            { ALT: () => this.CONSUME(T.IntegerLiteral, { LABEL: 'index' }) },
            { ALT: () => this.CONSUME(T.StringLiteral, { LABEL: 'name' }) },
            { ALT: () => this.CONSUME2(T.Star, { LABEL: 'star' }) },
          ]);
          this.CONSUME(T.RSquare);
        },
      },
    ]);
  });

  expression = this.RULE('expression', () => {
    this.SUBRULE(this.andExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr, { LABEL: 'operands' });
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr, { LABEL: 'operands' });
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
  });

  /** A value followed by any number of comparison / IS / IN / BETWEEN / LIKE parts (left-associative). */
  predicate = this.RULE('predicate', () => {
    this.SUBRULE(this.concatExpr, { LABEL: 'value' });
    this.MANY(() => this.SUBRULE(this.predicatePart, { LABEL: 'parts' }));
  });

  predicatePart = this.RULE('predicatePart', () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([
            { ALT: () => this.CONSUME(T.Equal, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.NotEqual, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Less, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.LessEq, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Greater, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.GreaterEq, { LABEL: 'op' }) },
          ]);
          this.SUBRULE(this.concatExpr, { LABEL: 'right' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Is);
          this.OPTION(() => this.CONSUME(T.Not));
          this.OR3([
            { ALT: () => this.CONSUME(T.Null, { LABEL: 'test' }) },
            { ALT: () => this.CONSUME(T.Missing, { LABEL: 'test' }) },
            { ALT: () => this.CONSUME(T.True, { LABEL: 'test' }) },
            { ALT: () => this.CONSUME(T.False, { LABEL: 'test' }) },
          ]);
        },
      },
      {
        ALT: () => {
          this.OPTION2(() => this.CONSUME2(T.Not));
          this.OR4([
            {
              ALT: () => {
                this.CONSUME(T.In);
                this.CONSUME(T.LParen);
                this.SUBRULE(this.expression, { LABEL: 'list' });
                this.MANY(() => {
                  this.CONSUME(T.Comma);
                  this.SUBRULE2(this.expression, { LABEL: 'list' });
                });
                this.CONSUME(T.RParen);
              },
            },
            {
              ALT: () => {
                this.CONSUME(T.Between);
                this.SUBRULE2(this.concatExpr, { LABEL: 'low' });
                this.CONSUME(T.And);
                this.SUBRULE3(this.concatExpr, { LABEL: 'high' });
              },
            },
            {
              ALT: () => {
                this.CONSUME(T.Like);
                this.SUBRULE4(this.concatExpr, { LABEL: 'pattern' });
                this.OPTION3(() => {
                  this.CONSUME(T.Escape);
                  this.SUBRULE5(this.concatExpr, { LABEL: 'escape' });
                });
              },
            },
          ]);
        },
      },
    ]);
  });

  concatExpr = this.RULE('concatExpr', () => {
    this.SUBRULE(this.additiveExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(T.Concat, { LABEL: 'ops' });
      this.SUBRULE2(this.additiveExpr, { LABEL: 'operands' });
    });
  });

  additiveExpr = this.RULE('additiveExpr', () => {
    this.SUBRULE(this.multiplicativeExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Plus, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Minus, { LABEL: 'ops' }) },
      ]);
      this.SUBRULE2(this.multiplicativeExpr, { LABEL: 'operands' });
    });
  });

  multiplicativeExpr = this.RULE('multiplicativeExpr', () => {
    this.SUBRULE(this.unaryExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Slash, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Percent, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Caret, { LABEL: 'ops' }) },
      ]);
      this.SUBRULE2(this.unaryExpr, { LABEL: 'operands' });
    });
  });

  unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([
            { ALT: () => this.CONSUME(T.Minus, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Plus, { LABEL: 'op' }) },
          ]);
          this.SUBRULE(this.unaryExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.literal) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.SUBRULE(this.caseExpr) },
      { ALT: () => this.SUBRULE(this.castExpr) },
      { ALT: () => this.SUBRULE(this.extractExpr) },
      { ALT: () => this.SUBRULE(this.substringExpr) },
      { ALT: () => this.SUBRULE(this.trimExpr) },
      { GATE: () => this.LA(2).tokenType === T.LParen, ALT: () => this.SUBRULE(this.functionCall) },
      { ALT: () => this.SUBRULE(this.pathExpr) },
    ]);
  });

  literal = this.RULE('literal', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.IntegerLiteral) },
      { ALT: () => this.CONSUME(T.DecimalLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.TimestampLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Null) },
      { ALT: () => this.CONSUME(T.Missing) },
    ]);
  });

  caseExpr = this.RULE('caseExpr', () => {
    this.CONSUME(T.Case);
    this.OPTION(() => this.SUBRULE(this.expression, { LABEL: 'operand' }));
    this.AT_LEAST_ONE(() => {
      this.CONSUME(T.When);
      this.SUBRULE2(this.expression, { LABEL: 'when' });
      this.CONSUME(T.Then);
      this.SUBRULE3(this.expression, { LABEL: 'then' });
    });
    this.OPTION2(() => {
      this.CONSUME(T.Else);
      this.SUBRULE4(this.expression, { LABEL: 'else' });
    });
    this.CONSUME(T.End);
  });

  castExpr = this.RULE('castExpr', () => {
    this.CONSUME(T.Cast);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(T.As);
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier, { LABEL: 'type' }) },
      { ALT: () => this.CONSUME(T.ReservedWord, { LABEL: 'type' }) },
    ]);
    this.OPTION(() => {
      this.CONSUME2(T.LParen);
      this.CONSUME(T.IntegerLiteral, { LABEL: 'typeParams' });
      this.OPTION2(() => {
        this.CONSUME(T.Comma);
        this.CONSUME2(T.IntegerLiteral, { LABEL: 'typeParams' });
      });
      this.CONSUME2(T.RParen);
    });
    this.CONSUME(T.RParen);
  });

  extractExpr = this.RULE('extractExpr', () => {
    this.CONSUME(T.Extract);
    this.CONSUME(T.LParen);
    this.OR([
      { ALT: () => this.CONSUME(T.ReservedWord, { LABEL: 'part' }) },
      { ALT: () => this.CONSUME(T.Identifier, { LABEL: 'part' }) },
    ]);
    this.CONSUME(T.From);
    this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
  });

  substringExpr = this.RULE('substringExpr', () => {
    this.CONSUME(T.Substring);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression, { LABEL: 'value' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.From);
          this.SUBRULE2(this.expression, { LABEL: 'start' });
          this.OPTION(() => {
            this.CONSUME(T.For);
            this.SUBRULE3(this.expression, { LABEL: 'length' });
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE4(this.expression, { LABEL: 'start' });
          this.OPTION2(() => {
            this.CONSUME2(T.Comma);
            this.SUBRULE5(this.expression, { LABEL: 'length' });
          });
        },
      },
    ]);
    this.CONSUME(T.RParen);
  });

  /** TRIM(s) | TRIM(chars FROM s) | TRIM(LEADING|TRAILING|BOTH [chars] FROM s). */
  trimExpr = this.RULE('trimExpr', () => {
    this.CONSUME(T.Trim);
    this.CONSUME(T.LParen);
    this.OR([
      {
        ALT: () => {
          this.OR2([
            { ALT: () => this.CONSUME(T.Leading, { LABEL: 'where' }) },
            { ALT: () => this.CONSUME(T.Trailing, { LABEL: 'where' }) },
            { ALT: () => this.CONSUME(T.Both, { LABEL: 'where' }) },
          ]);
          this.OPTION(() => this.SUBRULE(this.expression, { LABEL: 'chars' }));
          this.CONSUME(T.From);
          this.SUBRULE2(this.expression, { LABEL: 'value' });
        },
      },
      {
        ALT: () => {
          this.SUBRULE3(this.expression, { LABEL: 'first' });
          this.OPTION2(() => {
            this.CONSUME2(T.From);
            this.SUBRULE4(this.expression, { LABEL: 'value' });
          });
        },
      },
    ]);
    this.CONSUME(T.RParen);
  });

  functionCall = this.RULE('functionCall', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier, { LABEL: 'name' }) },
      { ALT: () => this.CONSUME(T.ReservedWord, { LABEL: 'name' }) },
    ]);
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.OR2([
        { ALT: () => this.CONSUME(T.Star, { LABEL: 'star' }) },
        {
          ALT: () => {
            this.SUBRULE(this.expression, { LABEL: 'args' });
            this.MANY(() => {
              this.CONSUME(T.Comma);
              this.SUBRULE2(this.expression, { LABEL: 'args' });
            });
          },
        },
      ]);
    });
    this.CONSUME(T.RParen);
  });

  /** A name (possibly a reserved word: date parts; to-ast rejects it elsewhere) and path steps. */
  pathExpr = this.RULE('pathExpr', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier, { LABEL: 'root' }) },
      { ALT: () => this.CONSUME(T.QuotedIdentifier, { LABEL: 'root' }) },
      { ALT: () => this.CONSUME(T.ReservedWord, { LABEL: 'root' }) },
    ]);
    this.MANY(() => this.SUBRULE(this.pathStep));
  });
}

let shared: SelectParser | undefined;

/** Parses tokens into a CST. The parser is built once (grammar analysis is costly) and reused. */
export function parseTokens(tokens: IToken[]): {
  cst: CstNode;
  errors: ReadonlyArray<{ message: string; token: IToken }>;
} {
  shared ??= new SelectParser();
  shared.input = tokens;
  const cst = shared.statement();
  return { cst, errors: shared.errors };
}

export type { TokenType };
