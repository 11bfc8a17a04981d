// The S3 Select lexer. Words are lexed as one Identifier token and then re-typed by a table lookup
// (case-insensitive): grammar keywords get their own token type, every other AWS reserved word becomes
// ReservedWord (usable only as a function name or date part, never as a bare name). Quoted identifiers
// ("Name") keep their case; string literals use '' to escape a quote; `...` is a timestamp literal.
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import { SelectError } from '../errors.js';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /--[^\n\r]*/, group: Lexer.SKIPPED });

/**
 * Block comments, matched without a RegExp: `/\*[\s\S]*?\*\//` scans to the end of the text from every `/*`
 * with no `*\/` after it, so a text of many `/* ` took quadratic time (0.7 s for 60 KB, seconds for 256 KB).
 * The place of the next `*\/` is remembered instead: the text is scanned once per tokenize. (Tokenizing is
 * synchronous, so the remembered state never mixes two texts.)
 */
function blockComment(): (text: string, offset: number) => RegExpExecArray | null {
  let text: string | undefined;
  let from = -1;
  let close = -1;
  return (t, offset) => {
    if (t.charCodeAt(offset) !== 47 || t.charCodeAt(offset + 1) !== 42) return null;
    const start = offset + 2;
    // `close` is the first `*\/` at or after `from`: still the answer for any later start up to it.
    if (t !== text || start < from || (close !== -1 && close < start)) {
      text = t;
      from = start;
      close = t.indexOf('*/', start);
    }
    return close === -1 ? null : ([t.slice(offset, close + 2)] as unknown as RegExpExecArray);
  };
}
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: { exec: blockComment() },
  line_breaks: true,
  start_chars_hint: ['/'],
  group: Lexer.SKIPPED,
});

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_$][A-Za-z0-9_$]*/ });
export const QuotedIdentifier = createToken({ name: 'QuotedIdentifier', pattern: /"(?:[^"]|"")*"/ });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /'(?:[^']|'')*'/ });
export const TimestampLiteral = createToken({ name: 'TimestampLiteral', pattern: /`[^`]*`/ });
export const DecimalLiteral = createToken({
  name: 'DecimalLiteral',
  pattern: /(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
});
export const IntegerLiteral = createToken({ name: 'IntegerLiteral', pattern: /\d+/ });

export const Concat = createToken({ name: 'Concat', pattern: /\|\|/ });
export const NotEqual = createToken({ name: 'NotEqual', pattern: /<>|!=/ });
export const LessEq = createToken({ name: 'LessEq', pattern: /<=/ });
export const GreaterEq = createToken({ name: 'GreaterEq', pattern: />=/ });
export const Less = createToken({ name: 'Less', pattern: /</ });
export const Greater = createToken({ name: 'Greater', pattern: />/ });
export const Equal = createToken({ name: 'Equal', pattern: /=/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const Percent = createToken({ name: 'Percent', pattern: /%/ });
/** Ceph's power operator; the other dialects refuse it as the character AWS does not know (to-ast.ts). */
export const Caret = createToken({ name: 'Caret', pattern: /\^/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LSquare = createToken({ name: 'LSquare', pattern: /\[/ });
export const RSquare = createToken({ name: 'RSquare', pattern: /]/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
/** Ends a statement (AWS's own examples end with one). */
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });

/** Category shared by every keyword token (used to report ParseUnExpectedKeyword / ParseExpectedKeyword). */
export const Keyword = createToken({ name: 'Keyword', pattern: Lexer.NA });
/** Any AWS reserved word the grammar gives no role of its own (function names, date parts, type names). */
export const ReservedWord = createToken({ name: 'ReservedWord', pattern: Lexer.NA, categories: [Keyword] });

function kw(name: string): TokenType {
  return createToken({ name: name.toUpperCase(), pattern: Lexer.NA, categories: [Keyword] });
}

export const Select = kw('select');
export const From = kw('from');
export const Where = kw('where');
export const Limit = kw('limit');
export const As = kw('as');
export const And = kw('and');
export const Or = kw('or');
export const Not = kw('not');
export const Like = kw('like');
export const Escape = kw('escape');
export const Between = kw('between');
export const In = kw('in');
export const Is = kw('is');
export const Null = kw('null');
export const Missing = kw('missing');
export const True = kw('true');
export const False = kw('false');
export const Case = kw('case');
export const When = kw('when');
export const Then = kw('then');
export const Else = kw('else');
export const End = kw('end');
export const Cast = kw('cast');
export const For = kw('for');
export const Leading = kw('leading');
export const Trailing = kw('trailing');
export const Both = kw('both');
export const Extract = kw('extract');
export const Substring = kw('substring');
export const Trim = kw('trim');
// Clauses of the `cairn` dialect (beyond AWS); under the AWS dialect they are refused as AWS refuses them.
export const Distinct = kw('distinct');
export const Group = kw('group');
export const Order = kw('order');
export const By = kw('by');
export const Asc = kw('asc');
export const Desc = kw('desc');

const GRAMMAR_KEYWORDS: TokenType[] = [
  Select,
  From,
  Where,
  Limit,
  As,
  And,
  Or,
  Not,
  Like,
  Escape,
  Between,
  In,
  Is,
  Null,
  Missing,
  True,
  False,
  Case,
  When,
  Then,
  Else,
  End,
  Cast,
  For,
  Leading,
  Trailing,
  Both,
  Extract,
  Substring,
  Trim,
  Distinct,
  Group,
  Order,
  By,
  Asc,
  Desc,
];

/** The AWS S3 Select reserved keyword list (SQL reference, "Reserved keywords"). */
export const RESERVED_WORDS: readonly string[] = (
  'absolute action add all allocate alter and any are as asc assertion at authorization avg bag begin between ' +
  'bit bit_length blob bool boolean both by cascade cascaded case cast catalog char char_length character ' +
  'character_length check clob close coalesce collate collation column commit connect connection constraint ' +
  'constraints continue convert corresponding count create cross current current_date current_time ' +
  'current_timestamp current_user cursor date day deallocate dec decimal declare default deferrable deferred ' +
  'delete desc describe descriptor diagnostics disconnect distinct domain double drop else end end-exec escape ' +
  'except exception exec execute exists external extract false fetch first float for foreign found from full ' +
  'get global go goto grant group having hour identity immediate in indicator initially inner input insensitive ' +
  'insert int integer intersect interval into is isolation join key language last leading left level like limit ' +
  'list local lower match max min minute missing module month names national natural nchar next no not null ' +
  'nullif numeric octet_length of on only open option or order outer output overlaps pad partial pivot position ' +
  'precision prepare preserve primary prior privileges procedure public read real references relative restrict ' +
  'revoke right rollback rows schema scroll second section select session session_user set sexp size smallint ' +
  'some space sql sqlcode sqlerror sqlstate string struct substring sum symbol system_user table temporary then ' +
  'time timestamp timezone_hour timezone_minute to trailing transaction translate translation trim true tuple ' +
  'union unique unknown unpivot update upper usage user using value values varchar varying view when whenever ' +
  'where with work write year zone'
).split(' ');

const WORD_TYPES = new Map<string, TokenType>();
for (const w of RESERVED_WORDS) WORD_TYPES.set(w, ReservedWord);
for (const t of GRAMMAR_KEYWORDS) WORD_TYPES.set(t.name.toLowerCase(), t);

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  QuotedIdentifier,
  StringLiteral,
  TimestampLiteral,
  DecimalLiteral,
  IntegerLiteral,
  Concat,
  NotEqual,
  LessEq,
  GreaterEq,
  Less,
  Greater,
  Equal,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Caret,
  LParen,
  RParen,
  LSquare,
  RSquare,
  Comma,
  Dot,
  Semicolon,
  Identifier,
  Keyword,
  ReservedWord,
  ...GRAMMAR_KEYWORDS,
];

const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

/** SQL expressions above this many UTF-8 bytes are refused (AWS limit). */
export const MAX_SQL_BYTES = 256 * 1024;

/**
 * SQL expressions of more tokens are refused (MaxOperatorsExceeded, AWS's code for a query too complex):
 * the parser costs 3 to 10 us per token and more once its tree outgrows the young generation, so the 256 KB
 * limit alone let one query hold the event loop for a second (a 131,000-value IN list); 16,384 tokens parse
 * in about 50 ms (an IN list of 8,000 values, a SELECT list of 4,000 columns, 4,000 ORed comparisons).
 */
export const MAX_SQL_TOKENS = 16_384;

/** Lexes SQL text; words are re-typed to keywords here. Throws SelectError with the position. */
export function tokenize(sql: string): IToken[] {
  if (Buffer.byteLength(sql, 'utf8') > MAX_SQL_BYTES) throw new SelectError('ExpressionTooLong');
  const out = lexer.tokenize(sql);
  if (out.errors.length > 0) {
    const e = out.errors[0];
    const ch = sql[e.offset];
    // An opening quote or backtick that never closes is a bad literal; anything else is a bad character.
    const code =
      ch === "'" || ch === '`' || ch === '"'
        ? 'LexerInvalidLiteral'
        : ch === '!' || ch === '|'
          ? 'LexerInvalidOperator'
          : 'LexerInvalidChar';
    throw new SelectError(code, undefined, { line: e.line ?? 1, column: e.column ?? 1 });
  }
  if (out.tokens.length > MAX_SQL_TOKENS) {
    const message =
      `The SQL expression has ${out.tokens.length} tokens, more than the ${MAX_SQL_TOKENS} supported: ` +
      'reduce its complexity.';
    throw new SelectError('MaxOperatorsExceeded', message);
  }
  for (const tok of out.tokens) {
    if (tok.tokenType !== Identifier) continue;
    const t = WORD_TYPES.get(tok.image.toLowerCase());
    if (t) {
      tok.tokenType = t;
      tok.tokenTypeIdx = t.tokenTypeIdx!;
    }
  }
  return out.tokens;
}

export function isKeywordToken(tok: IToken): boolean {
  return tok.tokenType === ReservedWord || GRAMMAR_KEYWORDS.includes(tok.tokenType);
}
