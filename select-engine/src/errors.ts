// S3 Select error codes (AWS "SelectObjectContent error codes"). The engine throws SelectError; the server
// turns one thrown before streaming into an XML error, and runSelect turns one thrown later into an
// event-stream error message. Every code here is HTTP 400 unless listed otherwise.

export const SELECT_ERRORS = {
  AmbiguousFieldName:
    'The field name matches to multiple fields in the file. Check the SQL expression and the file, and try again.',
  Busy: 'The service is unavailable. Try again later.',
  CastFailed: 'An attempt to convert from one data type to another using CAST failed in the SQL expression.',
  ColumnTooLong: 'The length of a column in the result is greater than maxCharsPerColumn of 1 MB.',
  CSVEscapingRecordDelimiter:
    "A quoted record delimiter was found in the file. To allow quoted record delimiters, set AllowQuotedRecordDelimiter to 'TRUE'.",
  CSVParsingError: 'An error occurred while parsing the CSV file. Check the file and try again.',
  CSVUnescapedQuote:
    "An unescaped quote was found while parsing the CSV file. To allow quoted record delimiters, set AllowQuotedRecordDelimiter to 'TRUE'.",
  EmptyRequestBody: 'The request body cannot be empty.',
  EvaluatorBindingDoesNotExist: 'A column name or a path provided does not exist in the SQL expression.',
  EvaluatorInvalidArguments: 'There is an incorrect number of arguments in the function call in the SQL expression.',
  EvaluatorInvalidTimestampFormatPattern: 'The timestamp format string in the SQL expression is not valid.',
  EvaluatorInvalidTimestampFormatPatternSymbol:
    'The timestamp format pattern contains a symbol in the SQL expression that is not valid.',
  EvaluatorInvalidTimestampFormatPatternSymbolForParsing:
    'The timestamp format pattern contains a valid format symbol that cannot be applied to timestamp parsing in the SQL expression.',
  EvaluatorInvalidTimestampFormatPatternToken:
    'The timestamp format pattern contains a token in the SQL expression that is not valid.',
  EvaluatorLikePatternInvalidEscapeSequence: 'An argument given to the LIKE expression was not valid.',
  EvaluatorNegativeLimit: 'LIMIT must not be negative.',
  EvaluatorTimestampFormatPatternDuplicateFields:
    'The timestamp format pattern contains multiple format specifiers representing the timestamp field in the SQL expression.',
  EvaluatorTimestampFormatPatternHourClockAmPmMismatch:
    "The timestamp format pattern contains a 12-hour hour of day format symbol but doesn't also contain an AM/PM field, or it contains a 24-hour hour of day format specifier and contains an AM/PM field in the SQL expression.",
  EvaluatorUnterminatedTimestampFormatPatternToken:
    'The timestamp format pattern contains an unterminated token in the SQL expression.',
  ExpressionTooLong: 'The SQL expression is too long: The maximum byte-length for the SQL expression is 256 KB.',
  ExternalEvalException: 'The query cannot be evaluated. Check the file and try again.',
  IllegalSqlFunctionArgument: 'An illegal argument was used in the SQL function.',
  IncorrectSqlFunctionArgumentType:
    'An incorrect argument type was specified in a function call in the SQL expression.',
  IntegerOverflow: 'An integer overflow or underflow occurred in the SQL expression.',
  InternalError: 'We encountered an internal error. Please try again.',
  InvalidCast: 'An attempt to convert from one data type to another using CAST failed in the SQL expression.',
  InvalidColumnIndex: 'The column index in the SQL expression is not valid.',
  InvalidCompressionFormat: 'The file is not in a supported compression format. Only GZIP and BZIP2 are supported.',
  InvalidDataSource: 'Invalid data source type. Only CSV, JSON, and Parquet are supported.',
  InvalidDataType: 'The SQL expression contains an invalid data type.',
  InvalidExpressionType: 'The ExpressionType is invalid. Only SQL expressions are supported.',
  InvalidFileHeaderInfo: 'The FileHeaderInfo is invalid. Only NONE, USE, and IGNORE are supported.',
  InvalidJsonType: 'The JsonType is invalid. Only DOCUMENT and LINES are supported.',
  InvalidKeyPath: 'Key path in the SQL expression is invalid.',
  InvalidQuoteFields: 'The QuoteFields is invalid. Only ALWAYS and ASNEEDED are supported.',
  InvalidRequestParameter:
    'The value of a parameter in SelectRequest element is invalid. Check the service API documentation and try again.',
  InvalidScanRange: 'The provided scan range is invalid.',
  InvalidTableAlias: 'The SQL expression contains an invalid table alias.',
  InvalidTextEncoding: 'Invalid encoding type. Only UTF-8 encoding is supported.',
  JSONParsingError: 'Encountered an error parsing the JSON file. Check the file and try again.',
  LexerInvalidChar: 'The SQL expression contains an invalid character.',
  LexerInvalidIONLiteral: 'The SQL expression contains an invalid operator.',
  LexerInvalidLiteral: 'The SQL expression contains an invalid literal.',
  LexerInvalidOperator: 'The SQL expression contains an invalid operator.',
  LikeInvalidInputs: 'Invalid argument given to the LIKE clause in the SQL expression.',
  MalformedXML: 'The XML provided was not well-formed or did not validate against our published schema.',
  MaxOperatorsExceeded:
    'Failed to parse SQL expression, try reducing complexity. For example, reduce number of operators used.',
  MissingHeaders: 'Some headers in the query are missing from the file. Check the file and try again.',
  MissingRequiredParameter:
    'The SelectRequest entity is missing a required parameter. Check the service documentation and try again.',
  MultipleDataSourcesUnsupported: 'Multiple data sources are not supported.',
  NumberFormatError:
    'An error occurred while parsing a number. This error can be caused by underflow or overflow of integers.',
  ObjectSerializationConflict:
    'The InputSerialization specified more than one format (CSV, JSON, or Parquet), or OutputSerialization specified more than one format (CSV or JSON). InputSerialization and OutputSerialization can only specify one format each.',
  OverMaxColumn: 'The number of columns in the result is greater than the maximum allowable number of columns.',
  OverMaxParquetBlockSize: 'The Parquet file is above the max row group size.',
  OverMaxRecordSize:
    'The length of a record in the input or result is greater than the maxCharsPerRecord limit of 1 MB.',
  ParquetParsingError: 'An error occurred while parsing the Parquet file. Check the file and try again.',
  ParquetUnsupportedCompressionCodec: 'The specified Parquet compression codec is not supported.',
  ParseAsteriskIsNotAloneInSelectList:
    "Other expressions are not allowed in the SELECT list when '*' is used without dot notation in the SQL expression.",
  ParseCannotMixSqbAndWildcardInSelectList:
    'Cannot mix [] and * in the same expression in a SELECT list in SQL expression.',
  ParseCastArity: 'The SQL expression CAST has incorrect arity.',
  ParseEmptySelect: 'The SQL expression contains an empty SELECT.',
  ParseExpected2TokenTypes: 'Did not find the expected token in the SQL expression.',
  ParseExpectedArgumentDelimiter: 'Did not find the expected argument delimiter in the SQL expression.',
  ParseExpectedDatePart: 'Did not find the expected date part in the SQL expression.',
  ParseExpectedExpression: 'Did not find the expected SQL expression.',
  ParseExpectedIdentForAlias: 'Did not find the expected identifier for the alias in the SQL expression.',
  ParseExpectedIdentForAt: 'Did not find the expected identifier for AT name in the SQL expression.',
  ParseExpectedIdentForGroupName: 'GROUP is not supported in the SQL expression.',
  ParseExpectedKeyword: 'Did not find the expected keyword in the SQL expression.',
  ParseExpectedLeftParenAfterCast: 'Did not find the expected left parenthesis after CAST in the SQL expression.',
  ParseExpectedLeftParenBuiltinFunctionCall: 'Did not find the expected left parenthesis in the SQL expression.',
  ParseExpectedLeftParenValueConstructor: 'Did not find expected the left parenthesis in the SQL expression.',
  ParseExpectedMember: 'The SQL expression contains an unsupported use of MEMBER.',
  ParseExpectedNumber: 'Did not find the expected number in the SQL expression.',
  ParseExpectedRightParenBuiltinFunctionCall:
    'Did not find the expected right parenthesis character in the SQL expression.',
  ParseExpectedTokenType: 'Did not find the expected token in the SQL expression.',
  ParseExpectedTypeName: 'Did not find the expected type name in the SQL expression.',
  ParseExpectedWhenClause: 'Did not find the expected WHEN clause in the SQL expression. CASE is not supported.',
  ParseInvalidContextForWildcardInSelectList: 'Invalid use of * in SELECT list in the SQL expression.',
  ParseInvalidPathComponent: 'Invalid Path component in the SQL expression.',
  ParseInvalidTypeParam: 'The SQL expression contains an invalid parameter value.',
  ParseMalformedJoin: 'JOIN is not supported in the SQL expression.',
  ParseMissingIdentAfterAt: 'Did not find the expected identifier after the @ symbol in the SQL expression.',
  ParseNonUnaryAgregateFunctionCall: 'Only one argument is supported for aggregate functions in the SQL expression.',
  ParseSelectMissingFrom: 'The SQL expression contains a missing FROM after SELECT list.',
  ParseUnExpectedKeyword: 'The SQL expression contains an unexpected keyword.',
  ParseUnexpectedOperator: 'The SQL expression contains an unexpected operator.',
  ParseUnexpectedTerm: 'The SQL expression contains an unexpected term.',
  ParseUnexpectedToken: 'The SQL expression contains an unexpected token.',
  ParseUnknownOperator: 'The SQL expression contains an invalid operator.',
  ParseUnsupportedAlias: 'The SQL expression contains an unsupported use of ALIAS.',
  ParseUnsupportedCallWithStar: 'Only COUNT with (*) as a parameter is supported in the SQL expression.',
  ParseUnsupportedCase: 'The SQL expression contains an unsupported use of CASE.',
  ParseUnsupportedCaseClause: 'The SQL expression contains an unsupported use of CASE.',
  ParseUnsupportedLiteralsGroupBy: 'The SQL expression contains an unsupported use of GROUP BY.',
  ParseUnsupportedSelect: 'The SQL expression contains an unsupported use of SELECT.',
  ParseUnsupportedSyntax: 'The SQL expression contains unsupported syntax.',
  ParseUnsupportedToken: 'The SQL expression contains an unsupported token.',
  TruncatedInput:
    'Object decompression failed. Check that the object is properly compressed using the format specified in the request.',
  UnauthorizedAccess: 'You are not authorized to perform this operation',
  UnrecognizedFormatException: 'We encountered an invalid record type.',
  UnsupportedFunction: 'Encountered an unsupported SQL function.',
  UnsupportedParquetType: 'The specified Parquet type is not supported.',
  UnsupportedRangeHeader: 'Range header is not supported for this operation.',
  UnsupportedScanRangeInput: 'Scan range queries are not supported on this type of object.',
  UnsupportedSqlOperation: 'Encountered an unsupported SQL operation.',
  UnsupportedSqlStructure: 'Encountered an unsupported SQL structure. Check the SQL Reference.',
  UnsupportedSyntax: 'Encountered invalid syntax.',
  UnsupportedTypeForQuerying: 'Encountered an unsupported type for querying.',
  ValueParseFailure: 'Time stamp parse failure in the SQL expression.',
} as const;

export type SelectErrorCode = keyof typeof SELECT_ERRORS;

const STATUS: Partial<Record<SelectErrorCode, number>> = { Busy: 503, UnauthorizedAccess: 401, InternalError: 500 };

/** Where in the SQL text an error was found (1-based line and column, as AWS reports them). */
export interface SqlPosition {
  line: number;
  column: number;
}

export class SelectError extends Error {
  readonly code: SelectErrorCode;
  readonly status: number;
  readonly position?: SqlPosition;

  constructor(code: SelectErrorCode, message?: string, position?: SqlPosition) {
    const base = message ?? SELECT_ERRORS[code];
    super(position ? `${base} (line ${position.line}, column ${position.column})` : base);
    this.name = 'SelectError';
    this.code = code;
    this.status = STATUS[code] ?? 400;
    this.position = position;
  }
}

export function isSelectError(e: unknown): e is SelectError {
  return e instanceof SelectError;
}
