// Equivalent mutants: changes to the code that no test can tell apart from the original, because the
// program behaves the same. Each entry names a file, the exact source of the smallest expression (or
// statement) whose mutants are all equivalent (`within`: only where it occurs inside that larger piece of
// code), and why. The ignorer in mutation/ignorers.mjs marks them Ignored with that reason; mutation/run.mjs
// refuses to run when an entry no longer matches its file. Review an entry whenever its code changes.

export const EQUIVALENT = [
  {
    file: 'server/src/http/auth/aws-chunked.ts',
    code: "private chunkSignature = '';",
    reason: 'every size line sets it before a chunk is verified',
  },
  {
    file: 'server/src/http/auth/aws-chunked.ts',
    code: "''",
    within: "opts.chain?.seedSignature ?? ''",
    reason: 'the previous signature is only read when the body is signed, and then the chain gives it',
  },
  {
    file: 'server/src/http/auth/aws-chunked.ts',
    code: "''",
    within: "sig ? sig.slice('chunk-signature='.length) : ''",
    reason: 'without a signature extension: a signed body is refused on the next line, an unsigned one never reads it',
  },
  {
    file: 'server/src/http/auth/sigv2.ts',
    code: 'a[0] > b[0] ? 1 : 0',
    reason: "V8's Array sort only asks whether the comparison is negative: 1 and 0 order alike",
  },
  {
    file: 'server/src/http/auth/sigv2.ts',
    code: "''",
    within: "signedHeaderValue(req.headers, h, req.valuesOf) ?? ''",
    reason: 'h comes from the keys of the headers, so the header has a value',
  },
  {
    file: 'server/src/http/auth/sigv2.ts',
    code: "''",
    within: "amzDate ?? headerValue(req.headers, 'date') ?? ''",
    reason: 'Date.parse of any text that is no date is NaN, as of the empty one',
  },
  {
    file: 'server/src/http/auth/sigv2.ts',
    code: "''",
    within: "headerValue(req.headers, 'date') ?? ''",
    reason: 'a request without x-amz-date got here only with a Date header that parsed',
  },
  {
    file: 'server/src/storage/meta/key-path.ts',
    code: 'escaped.length * 3 <= MAX_CHUNK || Buffer.byteLength(escaped) <= MAX_CHUNK',
    reason: 'a shortcut: the loop below cuts a segment that fits into the same single chunk',
  },
  {
    file: 'server/src/storage/meta/key-path.ts',
    code: "name.indexOf('%') < 0",
    reason: 'a shortcut: replacing escapes in a name without % returns the same name',
  },
  {
    file: 'server/src/storage/meta/versions.ts',
    code: '!drive',
    reason: 'without it, reading from no drive throws a TypeError, which the catch below also reports as offline',
  },
  {
    file: 'server/src/http/post-object.ts',
    code: "{ throw invalid('Invalid JSON.'); }",
    reason: 'a document that is not JSON leaves doc undefined, which the next check refuses with the same code',
  },
  {
    file: 'server/src/http/post-object.ts',
    code: "typeof doc === 'object'",
    reason: 'a document that is JSON but no object has no expiration string: refused with the same code',
  },
  {
    file: 'server/src/http/post-object.ts',
    code: "typeof doc.expiration !== 'string'",
    reason: 'an expiration that is no string fails the date pattern below: refused with the same code',
  },
  {
    file: 'server/src/http/post-object.ts',
    code: "''",
    within: "fields.get('x-amz-credential') ?? ''",
    reason: 'a missing credential and any text without four slashes are refused alike',
  },
  {
    file: 'server/src/http/post-object.ts',
    code: "''",
    within: "fields.get('x-amz-date') ?? ''",
    reason: 'no date parses from a missing x-amz-date or from any other text that is no date',
  },
  {
    file: 'server/src/http/post-object.ts',
    code: "''",
    within: "fields.get('awsaccesskeyid') ?? ''",
    reason: 'a missing AWSAccessKeyId names no access key, as the mutant text names none: InvalidAccessKeyId alike',
  },
  {
    file: 'server/src/storage/engine/erasure-objects.ts',
    code: 'this.sets.length === 1',
    reason: 'a shortcut: any hash modulo one set picks that set',
  },
  {
    file: 'server/src/storage/erasure/shard-writer.ts',
    code: 'this.pending = [];',
    reason: 'pending is read only while no shard file is open, and from here on they are',
  },
  {
    file: 'server/src/storage/engine/get.ts',
    code: 'mine.dataDir',
    reason: 'a version with shards that are not inline has a data dir',
  },
];
