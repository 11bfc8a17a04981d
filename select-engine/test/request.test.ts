// The SelectObjectContentRequest XML parser: every field, exact delimiter values, and the AWS error codes
// for bad requests.
import { describe, expect, it } from 'vitest';
import { parseSelectRequestXml, SelectError } from '../src/index.js';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

function body(inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<SelectObjectContentRequest ${NS}>${inner}</SelectObjectContentRequest>`;
}

function code(xml: string): string | undefined {
  try {
    parseSelectRequestXml(xml);
    return undefined;
  } catch (e) {
    if (e instanceof SelectError) return e.code;
    throw e;
  }
}

describe('parseSelectRequestXml', () => {
  it('reads every field of a CSV request, keeping delimiters exactly', () => {
    const r = parseSelectRequestXml(
      body(`
  <Expression>SELECT s._1 FROM S3Object s WHERE s._2 &lt; '5'</Expression>
  <ExpressionType>SQL</ExpressionType>
  <RequestProgress><Enabled>TRUE</Enabled></RequestProgress>
  <InputSerialization>
    <CompressionType>GZIP</CompressionType>
    <CSV>
      <FileHeaderInfo>USE</FileHeaderInfo>
      <Comments>#</Comments>
      <QuoteEscapeCharacter>"</QuoteEscapeCharacter>
      <RecordDelimiter>&#13;&#10;</RecordDelimiter>
      <FieldDelimiter>	</FieldDelimiter>
      <QuoteCharacter>'</QuoteCharacter>
      <AllowQuotedRecordDelimiter>FALSE</AllowQuotedRecordDelimiter>
    </CSV>
  </InputSerialization>
  <OutputSerialization>
    <CSV>
      <QuoteFields>ALWAYS</QuoteFields>
      <RecordDelimiter>
</RecordDelimiter>
      <FieldDelimiter> </FieldDelimiter>
    </CSV>
  </OutputSerialization>
  <ScanRange><Start>10</Start><End>200</End></ScanRange>`),
    );
    expect(r.expression).toBe("SELECT s._1 FROM S3Object s WHERE s._2 < '5'");
    expect(r.requestProgress).toBe(true);
    expect(r.input.compressionType).toBe('GZIP');
    expect(r.input.csv).toEqual({
      fileHeaderInfo: 'USE',
      comments: '#',
      quoteEscapeCharacter: '"',
      recordDelimiter: '\r\n',
      fieldDelimiter: '\t',
      quoteCharacter: "'",
      allowQuotedRecordDelimiter: false,
    });
    expect(r.output.csv).toMatchObject({ quoteFields: 'ALWAYS', recordDelimiter: '\n', fieldDelimiter: ' ' });
    expect(r.scanRange).toEqual({ start: 10, end: 200 });
  });

  it('reads JSON and Parquet requests with defaults', () => {
    const j = parseSelectRequestXml(
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><JSON><Type>lines</Type></JSON></InputSerialization><OutputSerialization><JSON/></OutputSerialization>',
      ),
    );
    expect(j.input.json?.type).toBe('LINES');
    expect(j.output.json).toEqual({ recordDelimiter: undefined });
    expect(j.requestProgress).toBe(false);
    expect(j.input.compressionType).toBe('NONE');
    const p = parseSelectRequestXml(
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><Parquet/></InputSerialization><OutputSerialization><CSV></CSV></OutputSerialization>',
      ),
    );
    expect(p.input.parquet).toEqual({});
    expect(p.output.csv).toBeDefined();
    const d = parseSelectRequestXml(
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><JSON/></InputSerialization><OutputSerialization><JSON/></OutputSerialization>',
      ),
    );
    expect(d.input.json?.type).toBe('DOCUMENT');
  });

  it.each([
    ['', 'EmptyRequestBody'],
    ['<SelectObjectContentRequest><Expression>x', 'MalformedXML'],
    ['<Other/>', 'MalformedXML'],
    [
      body('<InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>'),
      'MissingRequiredParameter',
    ],
    [
      body('<Expression>SELECT * FROM S3Object</Expression><OutputSerialization><CSV/></OutputSerialization>'),
      'MissingRequiredParameter',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><ExpressionType>XPATH</ExpressionType><InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
      ),
      'InvalidExpressionType',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CSV/><JSON/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
      ),
      'ObjectSerializationConflict',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/><JSON/></OutputSerialization>',
      ),
      'ObjectSerializationConflict',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CompressionType>ZSTD</CompressionType><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
      ),
      'InvalidCompressionFormat',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CSV><FileHeaderInfo>MAYBE</FileHeaderInfo></CSV></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
      ),
      'InvalidFileHeaderInfo',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><JSON><Type>XML</Type></JSON></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
      ),
      'InvalidJsonType',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV><QuoteFields>SOMETIMES</QuoteFields></CSV></OutputSerialization>',
      ),
      'InvalidQuoteFields',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization><ScanRange><Start>9</Start><End>3</End></ScanRange>',
      ),
      'InvalidScanRange',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization><ScanRange><Start>-1</Start></ScanRange>',
      ),
      'InvalidScanRange',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization><ScanRange></ScanRange>',
      ),
      'InvalidScanRange',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><InputSerialization><CompressionType>GZIP</CompressionType><Parquet/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
      ),
      'InvalidRequestParameter',
    ],
    [
      body(
        '<Expression>SELECT * FROM S3Object</Expression><RequestProgress><Enabled>YES</Enabled></RequestProgress><InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
      ),
      'InvalidRequestParameter',
    ],
  ])('%#: rejects with %s', (xml, expected) => {
    expect(code(xml)).toBe(expected);
  });
});
