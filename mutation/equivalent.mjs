// Equivalent mutants: changes to the code that no test can tell apart from the original, because the
// program behaves the same. Each entry names a file, the exact source of the smallest expression (or
// statement) whose mutants are all equivalent (`within`: only where it occurs inside that larger piece of
// code), and why. The ignorer in mutation/ignorers.mjs marks them Ignored with that reason; mutation/run.mjs
// refuses to run when an entry no longer matches its file. Review an entry whenever its code changes.
// An entry with `replacement` names one mutant of that code only (the mutant's text, as Stryker writes it), where
// other mutants of the same code are worth killing: mutation/run.mjs counts it Ignored when it survives (a killed
// one is reported as a listing to review).

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
  {
    file: 'server/src/api/policy-document.ts',
    code: '[]',
    within: 'actions ?? notActions ?? []',
    reason: 'a statement without Action and NotAction was refused just above: one of them is there',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: '[]',
    within: 'resources ?? []',
    reason: 'the text the mutant adds holds no `${`, so whether a resource uses variables is answered alike',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: '[]',
    within: 'notResources ?? []',
    reason: 'the text the mutant adds holds no `${`, so whether a resource uses variables is answered alike',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: "'Action'",
    within: "strings(st.Action, 'Action')",
    reason: 'the field name only goes into the error message',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: 'i < stem',
    reason: 'two different characters cannot be at the same index: i equal to stem never happens',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: '!st.resourceKeys',
    reason:
      'the resource index only chooses which statements a request looks at; looking at more of them gives the same verdict (policy-document.test.ts compares the index with every statement on random policies)',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: "k.indexOf('/')",
    reason:
      'the resource index only chooses which statements a request looks at; looking at more of them gives the same verdict (policy-document.test.ts compares the index with every statement on random policies) (a depth one too large looks one level further)',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: 'i >= 0',
    within: "for (let i = k.indexOf('/'); i >= 0; i = k.indexOf('/', i + 1)) slashes++;",
    reason: 'a resource key starts with arn:, never with a /',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: 'slashes > this.depth',
    reason: 'a shortcut: setting the depth to the same value changes nothing',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: 'this.byKey.size === 0',
    reason: 'a shortcut: the lookups of an empty index find nothing',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: 'slashes++',
    within:
      "for (let from = 0, slashes = 0; slashes <= this.depth; slashes++) { const i = r.indexOf('/', from); " +
      'const hit = this.byKey.get(i < 0 ? r : r.slice(0, i)); if (hit) { const w = evaluateStatements(hit, q); ' +
      "if (w === 'Deny') return w; if (w === 'Allow') v = w; } if (i < 0) break; from = i + 1; }",
    reason:
      'the resource index only chooses which statements a request looks at; looking at more of them gives the same verdict (policy-document.test.ts compares the index with every statement on random policies) (the loop still ends after the whole ARN)',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: 'i < 0',
    within: 'i < 0 ? r : r.slice(0, i)',
    reason: 'an ARN never starts with a /: i is never 0',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: 'if (i < 0) break;',
    reason:
      'the resource index only chooses which statements a request looks at; looking at more of them gives the same verdict (policy-document.test.ts compares the index with every statement on random policies) (without the break the loop looks up the same keys again, up to the depth)',
  },
  {
    file: 'server/src/api/policy-document.ts',
    code: "new Set(['*'])",
    within: "q.principals ?? new Set(['*'])",
    reason: "namesCaller answers true for a principal set holding '*' before it looks at the caller's tokens",
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "'object'",
    reason: "ACL_NEEDS: only 'bucket' is compared; any other text asks the object's ACL",
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "'Allow'",
    within: "{ identity: 'None', restricted: 'Allow' }",
    reason: "restricted is only compared with 'Deny' and 'NotAllowed'",
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "'Deny'",
    within: "{ owner, verdict: 'Deny' }",
    reason: "decide's verdict is only compared with 'Allow' once it is returned",
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "'None'",
    within: "if (verdict === 'Allow' && restricted === 'NotAllowed') verdict = 'None';",
    reason: "decide's verdict is only compared with 'Allow' once it is returned",
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "verdict === 'None' && !owner",
    reason:
      'the owner is allowed on the next line whatever an ACL says, and an Allow stays an Allow (a Deny returned earlier)',
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "verdict === 'None'",
    within: "if (verdict === 'None' && owner) verdict = 'Allow';",
    reason: 'a Deny returned earlier; an Allow stays an Allow',
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "caller?.accessKey ?? '*'",
    reason:
      'evaluatePolicy reads the principal only without principals: for an anonymous caller, and any text there names no one a policy can name',
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "'versionId' in op",
    reason: 'typeof reads a missing versionId as undefined, as the in-check would',
  },
  {
    file: 'server/src/api/authorize.ts',
    code: 'key !== undefined',
    within: 'if (read && key !== undefined) await refusedRead(ctx, req, op.bucket, key);',
    reason: 'GetObject and HeadObject always name a key',
  },
  {
    file: 'server/src/api/authorize.ts',
    code: 'readsTags',
    reason: "reading the object's tags when no policy asks for them only adds condition keys no condition reads",
  },
  {
    file: 'server/src/api/authorize.ts',
    code: "''",
    within: "info?.tagging ?? ''",
    reason: "the mutant's text is one tag key no condition names, with no value",
  },
  {
    file: 'select-engine/src/formats/json/index.ts',
    code: "if (line.length === 0 || (line.length < 3 && line.trim() === '')) continue;",
    reason: 'a shortcut: a blank line that reaches JSON.parse fails there, and the catch below skips it',
  },
  {
    file: 'select-engine/src/formats/json/index.ts',
    code: 'filter !== undefined',
    within: 'return { filterApplied: filter !== undefined, batches: batches() };',
    reason:
      'the query reads filterApplied only when it pushed a filter (src/index.ts), and the evaluator applying the WHERE clause again to rows that passed it keeps the same rows',
  },
  {
    file: 'select-engine/src/formats/json/numbers.ts',
    code: 'context?.source',
    reason: 'JSON.parse gives a reviver its context on Node 22 and later, and Cairn runs on 24',
  },
  {
    file: 'select-engine/src/formats/json/splitter.ts',
    code: 'end - start',
    within: 'if (end - start <= 2 * MAX_JSON_DEPTH) return;',
    reason:
      'a shortcut: end + start is never smaller, so the mutant only scans more text, which the scan itself bounds',
  },
  {
    file: 'select-engine/src/formats/json/splitter.ts',
    code: '2 * MAX_JSON_DEPTH',
    within: 'if (end - start <= 2 * MAX_JSON_DEPTH) return;',
    reason: 'a shortcut: a smaller threshold only scans more text, which the scan itself bounds',
  },
  {
    file: 'select-engine/src/formats/json/numbers.ts',
    code: 'i > 0',
    within: "let q = i > 0 ? text.indexOf('\"') : -1;",
    reason:
      'q is only read inside the loop below, which runs only when i > 0; there q = -1 only stops skipping strings, which can only answer true more often (a shortcut)',
  },
  {
    file: 'select-engine/src/formats/json/numbers.ts',
    code: '-1',
    within: "let q = i > 0 ? text.indexOf('\"') : -1;",
    reason: 'q is only read inside the loop below, which runs only when i > 0',
  },
  {
    file: 'select-engine/src/formats/json/numbers.ts',
    code: "if (close > i) i = text.indexOf('.', close + 1);",
    reason:
      'a shortcut: a string closing before the point leaves that point the next one after it, and looking at the points inside a string can only answer true more often (the reviver then keeps the same values)',
  },
  {
    file: 'select-engine/src/formats/json/numbers.ts',
    code: 'i - 1',
    within: 'const before = text.charCodeAt(i - 1);',
    reason:
      'in JSON a point outside strings has a digit on both sides (text that is no JSON fails JSON.parse either way)',
  },
  {
    file: 'select-engine/src/formats/json/numbers.ts',
    code: 'return false;',
    reason: 'true only sends the record through the reviver, which gives the same values: the function is a shortcut',
  },
  {
    file: 'select-engine/src/formats/csv/index.ts',
    code: 'filter !== undefined',
    within: 'filterApplied: filter !== undefined',
    reason:
      'the query reads filterApplied only when it pushed a filter (src/index.ts), and the evaluator applying the WHERE clause again to rows that passed it keeps the same rows',
  },
  {
    file: 'server/src/api/iam/openid.ts',
    code: "code === 'ERR_JWKS_NO_MATCHING_KEY'",
    reason: 'this branch and every one after it answer InvalidIdentityToken: only the message differs',
  },
  {
    file: 'server/src/api/iam/openid.ts',
    code: "code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'",
    reason: 'this branch and the one after it answer InvalidIdentityToken: only the message differs',
  },
  {
    file: 'server/src/api/iam/openid.ts',
    code: "code === 'ERR_JOSE_ALG_NOT_ALLOWED'",
    reason: 'this branch and the one after it answer InvalidIdentityToken: only the message differs',
  },
  {
    file: 'server/src/api/iam/openid.ts',
    code: "{ accept: 'application/json, application/jwk-set+json' }",
    reason: 'a courtesy: providers serve their JWKS whatever Accept says (no negotiation is defined)',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: 'const NEED_MORE = -1;',
    reason: 'a sentinel: parseQuoted returns a position past a quote and a delimiter (2 or more) or this, never 1',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: 'stoppedAtMax = false;',
    reason: 'split() sets it before anything reads it',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: 'this.stoppedAtMax = false;',
    reason: 'set again from produced and out.length after the loop, before split() returns',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: "private quoteText = '';",
    reason:
      'the quote cache before any call: another start value only makes the first lookup miss, or hit a text with no quote',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: 'private quoteAt = -1;',
    reason: 'read only when quoteText is the text at hand, and split() stores the three fields together',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: "if (q !== '') { this.quoteText = s; this.quoteFrom = qFrom; this.quoteAt = nextQ; }",
    reason: 'storing the quote cache: without it each call searches for the next quote again (same answer, more work)',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: 'const probe: string[] = [];',
    reason: 'plainFields writes each field by index and trims the array to the fields it wrote',
  },
  {
    file: 'select-engine/src/formats/csv/splitter.ts',
    code: '[]',
    within: 'this.plainFields(s, pos, recEnd, sel, [])',
    reason: 'plainFields writes each field by index and trims the array to the fields it wrote',
  },
  {
    file: 'select-engine/src/exec/predicates.ts',
    code: '(_s: string) => false',
    reason: 'never called: lastPat starts undefined and a pattern is a string, so the first row compiles its own test',
  },
  {
    file: 'select-engine/src/exec/predicates.ts',
    code: "'bool'",
    reason:
      "a static type is read only as 'int' and 'float' (arithmetic, SUM, AVG) and as 'bool' by WHERE, whose other path (`f(row) === true`) passes the same rows",
  },
  {
    file: 'select-engine/src/exec/predicates.ts',
    code: "'any'",
    reason: "a static type is read only as 'int', 'float' and 'bool'; any other text means the same as 'any'",
  },
  {
    file: 'select-engine/src/exec/aggregates.ts',
    code: "'AVG'",
    within: "sumOrAvg('AVG', arg)",
    reason: "sumOrAvg treats any name but 'SUM' as AVG; the name shows only in an error message",
  },
  {
    file: 'select-engine/src/exec/aggregates.ts',
    code: "'MAX'",
    within: "best('MAX', arg)",
    reason: "best treats any name but 'MIN' as MAX; the name shows only in an error message",
  },
  {
    file: 'select-engine/src/exec/aggregates.ts',
    code: 'c * sign',
    reason: 'sign is 1 or -1, so c / sign is c * sign',
  },
  {
    file: 'select-engine/src/exec/grouping.ts',
    code: 's.name.name.toLowerCase()',
    reason:
      'unquoted names are ASCII (the Identifier token), which upper and lower case fold alike; a quoted name keeps its " in front',
  },
  {
    file: 'select-engine/src/exec/grouping.ts',
    code: '{ keys: [], results: [] }',
    reason: 'select(i) sets both before the compiled SELECT list or ORDER BY reads them, and only a group is read',
  },
  {
    file: 'select-engine/src/exec/grouping.ts',
    code: "'any'",
    reason: "a static type is read only as 'int', 'float' and 'bool'; any other text means the same as 'any'",
  },
  {
    file: 'select-engine/src/exec/grouping.ts',
    code: "'GROUP BY'",
    within: "new HeldBudget('GROUP BY')",
    reason: 'the name shows only in the message of the error when the groups exceed the bound',
  },
  {
    file: 'select-engine/src/exec/format-pattern.ts',
    code: 'false',
    within: 'offsetText(t.offset, false, true, true)',
    reason: 'with hoursOnly (one X), offsetText returns before it reads withColon',
  },
  {
    file: 'select-engine/src/exec/format-pattern.ts',
    code: 'false',
    within: 'offsetText(t.offset, false, true, false)',
    reason: 'with hoursOnly (one x), offsetText returns before it reads withColon',
  },
  {
    file: 'select-engine/src/exec/format-pattern.ts',
    code: 'default: return undefined;',
    reason: 'without it a letter no case takes falls out of the switch, which returns undefined as well',
  },
  {
    file: 'select-engine/src/exec/format-pattern.ts',
    code: 'close < 0',
    reason: 'close is an indexOf from j >= i + 1 >= 1, so it is never 0: < 0 and <= 0 agree',
  },
  {
    file: 'select-engine/src/exec/decimal.ts',
    code: 'Number.isInteger(n) && Number.isSafeInteger(n)',
    reason:
      'a shortcut: Decimal.parse(String(n)) gives an equal DECIMAL for any integer (its digits, or from 1e21 digits and an exponent, printed alike)',
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: "case 'boolean': return v ? 'b1' : 'b0';",
    reason:
      "a boolean's part of a group key is unlike every other part whatever becomes of this case: without it true falls to 'ntrue' or 'otrue', which no number or other value gives, and either letter pair emptied is still the only empty part",
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: "'z'",
    reason:
      'NULL and MISSING give the only part of a group key that is this text; emptied, it is still the only empty one',
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: "'string'",
    within: "case 'string': return `s${v}`;",
    reason:
      'text then takes the last branch, whose part is its JSON form, quoted: still one part a text, and no other value has a quoted JSON form',
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: "case 'string': return `s${v}`;",
    replacement: "case 'string':",
    reason:
      'text then takes the last branch, whose part is its JSON form, quoted: still one part a text, and no other value has a quoted JSON form',
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: 'ra === 5',
    replacement: 'false',
    reason: 'a shortcut: compare() of two NULL or MISSING values is NaN or 0, which the next lines make 0',
  },
  ...['false', 'this.k < 0'].map((replacement) => ({
    file: 'select-engine/src/exec/ordering.ts',
    code: 'this.k <= 0',
    replacement,
    reason: 'the pipeline returns before the first row when LIMIT is 0: no TopK of k = 0 is asked',
  })),
  ...[
    ['this.cmp(h[i], h[p]) <= 0', 'this.cmp(h[i], h[p]) < 0'],
    ['this.cmp(h[l], h[m]) > 0', 'this.cmp(h[l], h[m]) >= 0'],
    ['this.cmp(h[r], h[m]) > 0', 'this.cmp(h[r], h[m]) >= 0'],
  ].map(([code, replacement]) => ({
    file: 'select-engine/src/exec/ordering.ts',
    code,
    replacement,
    reason: 'cmp of two rows of the heap is never 0: rows equal in every key differ in their input order (seq)',
  })),
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: "'base64'",
    replacement: '""',
    reason:
      "digest() without an encoding gives the digest's bytes, whose UTF-8 text keys the line as short and as distinct (two digests would have to differ only inside invalid UTF-8 sequences to meet)",
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: 'false',
    within: 'if (this.k <= 0) return false;',
    reason: 'the pipeline returns before the first row when LIMIT is 0: no TopK of k = 0 is asked',
  },
  // Stryker puts a call's mutant on its statement (`;` included), and `if (this.held)` forced false drops the same call.
  ...[
    { code: 'this.held.delete(h[0].key);' },
    { code: 'this.held', within: 'if (this.held) this.held.delete(h[0].key);', replacement: 'false' },
  ].map((e) => ({
    file: 'select-engine/src/exec/ordering.ts',
    ...e,
    reason:
      "frees memory only: a row pushed out of the heap never comes back (its duplicates, equal in every ORDER BY key, sort after it), so the output is the same without it; the set then keeps every key ever held, which no test's output shows",
  })),
  ...['ORDER BY', 'DISTINCT'].map((what) => ({
    file: 'select-engine/src/exec/ordering.ts',
    code: `'${what}'`,
    within: `new HeldBudget('${what}')`,
    reason: 'the name of the clause goes only into the text of the UnsupportedSqlOperation error (tooMuchHeld)',
  })),
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: 'i < this.desc.length',
    within: 'for (let i = 0; i < this.desc.length; i++) { const c = orderCompare(a.keys[i], b.keys[i]);',
    replacement: 'i <= this.desc.length',
    reason:
      'one compare more, of keys[desc.length], which no row has: two undefined values, which orderCompare makes 0',
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: "this.cmp({ keys, seq: this.seq, line: '', key: '' }, this.heap[0]) < 0",
    replacement: "this.cmp({ keys, seq: this.seq, line: '', key: '' }, this.heap[0]) <= 0",
    reason: "cmp is 0 only for equal seq, and this.seq (the next row's) is no held row's",
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: "''",
    within: "{ keys, seq: this.seq, line: '', key: '' }",
    reason: 'cmp never reads line or key: the probe of wants() needs keys and seq only',
  },
  {
    file: 'select-engine/src/exec/ordering.ts',
    code: 'x < y',
    within: 'return x === y ? 0 : x < y ? -1 : 1;',
    replacement: 'x <= y',
    reason: 'x and y differ there: the test before it returned 0 for equal texts',
  },
  {
    file: 'select-engine/src/exec/timestamp.ts',
    code: 'offset < 0',
    within: "return `${offset < 0 ? '-' : '+'}",
    replacement: 'offset <= 0',
    reason: 'an offset of 0 returned Z on the line before',
  },
  {
    file: 'select-engine/src/exec/decimal.ts',
    code: 'digits > PRECISION',
    replacement: 'digits >= PRECISION',
    reason: 'a quotient has 34 digits never: the shift gives it PRECISION + 1 digits at least, or it is 0 (one digit)',
  },
  {
    file: 'select-engine/src/exec/decimal.ts',
    code: 'rem < 0n',
    replacement: 'rem <= 0n',
    reason: 'at rem = 0, -rem is rem',
  },
  {
    file: 'select-engine/src/exec/decimal.ts',
    code: 'q < 0n',
    within: 'q += q < 0n ? -1n : 1n',
    replacement: 'q <= 0n',
    reason: 'q is never 0 there: it holds the first 34 digits of a quotient of 35 digits or more',
  },
  ...['false', '""'].map((replacement) => ({
    file: 'select-engine/src/exec/pipeline.ts',
    code: replacement === 'false' ? "w.type === 'bool'" : "'bool'",
    within: "w.type === 'bool' ? (f as (row: Row) => boolean) : (row) => f(row) === true",
    replacement,
    reason:
      'a shortcut: `f(row) === true` is as true as a boolean-typed WHERE itself, which yields only true, false, NULL or MISSING',
  })),
  ...['true', 'plan.unnest.length >= 0'].map((replacement) => ({
    file: 'select-engine/src/exec/pipeline.ts',
    code: 'plan.unnest.length > 0',
    replacement,
    reason: 'compileUnnest of no steps puts each record itself in the rows: the same rows, in a copy of the batch',
  })),
  {
    file: 'select-engine/src/exec/pipeline.ts',
    code: "shape.kind === 'csv'",
    within: "stmt.dialect === 'ceph' && shape.kind === 'csv' ? { ...shape, ceph: true } : shape",
    replacement: 'true',
    reason: 'only the CSV binding reads `ceph` (plan/bind.ts): a JSON or Parquet shape marked ceph binds the same',
  },
  ...[
    ["stmt.dialect === 'ceph' && shape.kind === 'csv'", 'true'],
    ["stmt.dialect === 'ceph'", 'true'],
    ["stmt.dialect === 'ceph' && shape.kind === 'csv'", "stmt.dialect === 'ceph' || shape.kind === 'csv'"],
    ["shape.kind === 'csv'", 'true'],
  ].map(([code, replacement]) => ({
    file: 'select-engine/src/exec/pipeline.ts',
    code,
    within:
      "if (stmt.dialect === 'ceph' && shape.kind === 'csv' && shape.header) checkAliasesAgainstHeader(stmt, shape.header);",
    replacement,
    reason:
      'only a CSV shape has a header, and only the ceph dialect fills aliasesUsed (sql/ceph.ts): the check then finds nothing to refuse',
  })),
  {
    file: 'select-engine/src/exec/pipeline.ts',
    code: '[]',
    within: 'plan.selectStar ? [] : (stmt.select as A.SelectItem[])',
    reason:
      'read by orderOf only: under SELECT * `output` is true before items is read, and outputAlias finds no alias on other items',
  },
  {
    file: 'select-engine/src/exec/pipeline.ts',
    code: '[]',
    within: 'orderOf(ctx, [])',
    reason: 'SELECT *: items is empty, so no ORDER BY key names an output column and the columns are never read',
  },
  {
    file: 'select-engine/src/exec/pipeline.ts',
    code: '[]',
    within: 'const rows: Row[] = [];',
    reason: 'emptied (rows.length = 0) before each batch is unnested into it, and read only after',
  },
  {
    file: 'select-engine/src/exec/pipeline.ts',
    code: 'i < sorted.length',
    replacement: 'i <= sorted.length',
    reason:
      'one more piece only when the sorted lines are a multiple of DRAIN_LINES (none included): an empty text, which writes nothing',
  },
  ...['true', 'line.length >= MAX_OUTPUT_RECORD / 4'].map((replacement) => ({
    file: 'select-engine/src/exec/pipeline.ts',
    code: 'line.length > MAX_OUTPUT_RECORD / 4',
    replacement,
    reason:
      'a shortcut: a line of at most MAX_OUTPUT_RECORD / 4 UTF-16 code units is at most 3/4 of it in UTF-8 bytes, so the byte count decides alone',
  })),
  {
    file: 'select-engine/src/exec/timestamp.ts',
    code: "'year'",
    within: "year: 'year',",
    replacement: '""',
    reason:
      "year is the coarsest precision: maxPrecision(p, 'year') is p, as maxPrecision(p, '') is (indexOf gives -1)",
  },
  // values.ts (session 23).
  ...[
    ["'string'", '""', "case 'string': return 'text';"],
    ["'text'", '""'],
    ["'bool'", '""'],
  ].map(([code, replacement, within]) => ({
    file: 'select-engine/src/exec/values.ts',
    code,
    replacement,
    within,
    reason:
      "kindOf's name of text or of booleans only has to match itself: two strings are compared before kindOf (the shortcut above it), two booleans still share a kind (not 'other'), and a value of another kind never has it",
  })),
  {
    file: 'select-engine/src/exec/values.ts',
    code: '(a as string) < (b as string)',
    replacement: 'a as string <= (b as string)',
    reason: 'two equal strings were answered 0 just before',
  },
  ...[
    ["ta === 'number' && tb === 'number'", 'false'],
    ["'number'", '""', "ta === 'number' && tb === 'number'"],
  ].map(([code, replacement, within]) => ({
    file: 'select-engine/src/exec/values.ts',
    code,
    replacement,
    within,
    reason:
      'a shortcut: two numbers (INT or FLOAT) otherwise reach the same difference through kindOf and the last line of the number branch',
  })),
  {
    file: 'select-engine/src/exec/values.ts',
    code: "ta === 'bigint' || tb === 'bigint'",
    replacement: 'true',
    reason:
      'only pairs holding a bigint get here: two numbers were answered by the shortcut, a DECIMAL by the branch before',
  },
  {
    file: 'select-engine/src/exec/values.ts',
    code: 'a === b',
    within: 'if (a === b) return true;',
    replacement: 'false',
    reason:
      'a shortcut: a value compares 0 with itself (a NaN FLOAT is not === itself either), an object JSON-equals itself',
  },
  ...[
    ["typeof a === 'object' && typeof b === 'object'", "typeof a === 'object' || typeof b === 'object'"],
    ["typeof b === 'object'", 'true', "typeof a === 'object' && typeof b === 'object'"],
    ["typeof a === 'object'", 'true', "typeof a === 'object' && typeof b === 'object'"],
  ].map(([code, replacement, within]) => ({
    file: 'select-engine/src/exec/values.ts',
    code,
    replacement,
    within,
    reason:
      'an object (array, structure) and a value that is not one have different JSON texts, so they are unequal as compare() (their kinds differ) makes them',
  })),
  {
    file: 'select-engine/src/exec/values.ts',
    code: "typeof v === 'string' ? `'${v}'` : String(v)",
    reason: 'error message text only: how the value is shown in the CastFailed message',
  },
  ...['s.length >= 40'].map((replacement) => ({
    file: 'select-engine/src/exec/values.ts',
    code: 's.length > 40',
    replacement,
    reason: 'error message text only: whether "..." follows a value of about 40 characters (the bound is tested)',
  })),
  {
    file: 'select-engine/src/exec/values.ts',
    code: '`${s.slice(0, 40)}...`',
    replacement: '``',
    reason: 'error message text only: a long value left out of the CastFailed message altogether',
  },
  ...[
    ["Number.isSafeInteger(n) && (n !== 0 || v.trim() !== '')", 'false'],
    ["n !== 0 || v.trim() !== ''", "n !== 0 && v.trim() !== ''"],
    ["v.trim() !== ''", 'false', "n !== 0 || v.trim() !== ''"],
  ].map(([code, replacement, within]) => ({
    file: 'select-engine/src/exec/values.ts',
    code,
    replacement,
    within,
    reason:
      'a shortcut for digits: a safe integer that is not blank text also passes the general path below unchanged (finite, not blank, its own trunc)',
  })),
  {
    file: 'select-engine/src/exec/values.ts',
    code: 'v !== 0n',
    replacement: 'true',
    reason:
      'an INT is a bigint only past 2^53 (int64.ts int64, the JSON and Parquet readers make smaller ones numbers): a bigint is never 0',
  },
  ...[
    ["typeof v === 'string'", 'false'],
    ["'string'", '""'],
  ].map(([code, replacement]) => ({
    file: 'select-engine/src/exec/values.ts',
    code,
    replacement,
    within: "f = (v) => (typeof v === 'string' ? v : valueToText(v));",
    reason: 'a shortcut: valueToText gives a string back as it is',
  })),
  ...[
    ["case 'boolean':", 'return String(v);', "case 'boolean': case 'bigint': return String(v); case 'undefined':"],
    ["case 'bigint':", 'return String(v);', "case 'boolean': case 'bigint': return String(v); case 'undefined':"],
  ].map(([code, , within]) => ({
    file: 'select-engine/src/exec/values.ts',
    code: code.replace(':', '').replace('case ', ''),
    replacement: '""',
    within,
    reason:
      "valueToText's default gives the same text: JSON.stringify of a boolean is its String(), of a bigint its digits (stringifyObject's replacer)",
  })),
  ...[
    ["'string'", '""', "case 'string': return JSON.stringify(v); case 'number':"],
    ["'number'", '""', "case 'number': return Number.isFinite(v) ? String(v) : 'null';"],
    ["'boolean'", '""', "case 'boolean': case 'bigint': return String(v); default: if (v === null || v === undefined)"],
    ["'bigint'", '""', "case 'boolean': case 'bigint': return String(v); default: if (v === null || v === undefined)"],
    [
      "case 'bigint': return String(v);",
      "case 'bigint':",
      "case 'boolean': case 'bigint': return String(v); default: if (v === null || v === undefined)",
    ],
    ['v instanceof Decimal', 'false', 'if (v instanceof Decimal) return v.toString();'],
    ['v instanceof Timestamp', 'false', 'if (v instanceof Timestamp) return JSON.stringify(v.toString());'],
  ].map(([code, replacement, within]) => ({
    file: 'select-engine/src/exec/values.ts',
    code,
    replacement,
    within,
    reason:
      "a shortcut of valueToJson: its default (stringifyObject, JSON.stringify) gives the same text (NaN and the infinities null, a bigint's digits through the replacer, Decimal and Timestamp through their toJSON)",
  })),
  {
    file: 'select-engine/src/exec/values.ts',
    code: 'e instanceof TypeError',
    replacement: 'true',
    reason:
      'JSON.stringify throws a TypeError for a bigint, else a RangeError (a string too long), which the call with the replacer throws again',
  },
  ...[
    ['s.length > 40', 'true'],
    [
      "{ const s = typeof v === 'string' ? `'${v}'` : String(v); return s.length > 40 ? `${s.slice(0, 40)}...` : s; }",
      '{}',
    ],
  ].map(([code, replacement]) => ({
    file: 'select-engine/src/exec/values.ts',
    code,
    replacement,
    reason: 'error message text only: "..." after a short value, or no value shown (the message stays bounded: tested)',
  })),
  {
    file: 'select-engine/src/exec/values.ts',
    code: 'n === 0',
    within: "if (n === 0 && s.trim() === '') return NaN;",
    replacement: 'true',
    reason: 'a shortcut: blank text is +0, so text whose number is not 0 is never blank',
  },
  {
    file: 'select-engine/src/exec/values.ts',
    code: 'v > 0',
    replacement: 'v >= 0',
    reason: 'v is an infinity here (neither finite nor NaN), never 0',
  },
  {
    file: 'select-engine/src/exec/values.ts',
    code: 'v === null',
    within: 'if (v === null || v === undefined) return',
    replacement: 'false',
    reason: "null then reaches stringifyObject, whose JSON.stringify(null) is 'null' as well",
  },
  // functions.ts (session 23).
  {
    file: 'select-engine/src/exec/functions.ts',
    code: '[]',
    within: 'const given: unknown[] = [];',
    reason: 'every index below args.length is set before the call, and `given.length = args.length` drops any other',
  },
  {
    file: 'select-engine/src/exec/functions.ts',
    code: 'i < s.length',
    within: 'for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i);',
    replacement: 'i <= s.length',
    reason: 'charCodeAt past the end is NaN, which is no high surrogate',
  },
  {
    file: 'select-engine/src/exec/functions.ts',
    code: 'length !== undefined',
    within: 'if (length !== undefined && length < 0) {',
    replacement: 'true',
    reason: 'undefined < 0 is false: a SUBSTRING without a length is never refused',
  },
  {
    file: 'select-engine/src/exec/functions.ts',
    code: 'from < 0',
    replacement: 'from <= 0',
    reason: 'from = 0 is set to 0',
  },
  // compile.ts (session 24).
  ...[
    ["'decimal'", "constant(Decimal.parse(l.text) ?? badLiteral(l.text), 'decimal')"],
    ["'string'", "constant(l.value, 'string')"],
    ["'null'", "constant(null, 'null')"],
    ["'null'", "constant(undefined, 'null')"],
    ["'timestamp'", "constant(ts, 'timestamp')"],
    ["'string'", "type: 'string'"],
    ["'any'", "floatStatic ? 'float' : intStatic ? 'int' : 'any'"],
    ["'any'", "type: 'any'"],
    [
      "'decimal'",
      "e.to === 'DECIMAL' ? 'decimal' : e.to === 'STRING' ? 'string' : e.to === 'BOOL' ? 'bool' : 'timestamp'",
    ],
    ["'string'", "e.to === 'STRING' ? 'string' : e.to === 'BOOL' ? 'bool' : 'timestamp'"],
    ["'timestamp'", "e.to === 'BOOL' ? 'bool' : 'timestamp'"],
    ["e.to === 'DECIMAL'"],
    ["e.to === 'STRING'"],
  ].map(([code, within]) => ({
    file: 'select-engine/src/exec/compile.ts',
    code,
    within,
    reason:
      "a static type is read only as 'int' or 'float' (arithmetic, SUM and AVG) and 'bool' (WHERE's filter): 'decimal', 'string', 'timestamp', 'null' and 'any' all read as none of them, and a CAST to DECIMAL, STRING, BOOL or TIMESTAMP typed one of those (or 'decimal' for 'bool': see the entries on 'bool') behaves the same",
  })),
  ...[
    ["'bool'", undefined, "type: 'bool'"],
    ["'bool'", undefined, "constant(l.value, 'bool')"],
    ["'bool'", undefined, "e.to === 'BOOL' ? 'bool' : 'timestamp'"],
    ["e.to === 'BOOL'", 'false'],
    ["'BOOL'", '""', "e.to === 'BOOL'"],
  ].map(([code, replacement, within]) => ({
    file: 'select-engine/src/exec/compile.ts',
    code,
    replacement,
    within,
    reason:
      "'bool' only lets WHERE take the expression as its filter without `=== true` (pipeline.ts): an expression typed 'bool' yields only TRUE, FALSE, NULL or MISSING, so without the tag the same rows pass (the opposite, a non-boolean typed 'bool', is killed: golden/logic.case WHERE cases)",
  })),
  {
    file: 'select-engine/src/exec/compile.ts',
    code: "ctx.binding.pathType?.(e) ?? 'any'",
    reason:
      "every binding has pathType but GROUP BY's (grouping.ts), whose path() throws before it would be asked; 'any' as above",
  },
  {
    file: 'select-engine/src/exec/compile.ts',
    code: "typeof l.value === 'bigint'",
    replacement: 'true',
    reason:
      'the parser gives a number only for a safe integer, which inInt64 (a comparison, bigint or not) finds in range',
  },
  {
    file: 'select-engine/src/exec/compile.ts',
    code: "x.kind === 'binary'",
    within: "if (x.kind === 'binary' && x.op === op) stack.push(x.right, x.left);",
    replacement: 'true',
    reason:
      'only binary nodes have an op of AND or OR (a unary op is NOT, - or +); the test narrows the type for TypeScript',
  },
  {
    file: 'select-engine/src/exec/compile.ts',
    code: "e.kind === 'call'",
    within: "const ceph = e.kind === 'call' && e.ceph === true;",
    replacement: 'true',
    reason: 'EXTRACT, SUBSTRING and TRIM nodes have no ceph flag: undefined === true is false',
  },
  {
    file: 'select-engine/src/exec/compile.ts',
    code: "case 'datePart': throw new SelectError('ParseExpectedExpression', undefined, e.pos);",
    reason:
      "unreachable: the parser admits a date part only as a function's argument (DATE_ADD(year + 1, ...) is ParseExpectedDatePart, UPPER(day) ParseUnExpectedKeyword), which callOf turns into a keyword",
  },
  {
    file: 'select-engine/src/exec/compile.ts',
    code: 'intDivision && Number.isSafeInteger(x) && Number.isSafeInteger(y)',
    within: 'return intDivision && Number.isSafeInteger(x) && Number.isSafeInteger(y) ? Math.trunc(x / y) : x / y;',
    replacement: 'false',
    reason:
      "a shortcut: two safe integers reach it only from arithmetic()'s first path (a DECIMAL or a bigint beside one takes its own), whose exact check redoes a quotient that is not a safe integer in BigInt, truncated",
  },
  ...[
    ["e.op === '=' && r.constant && typeof r.constant.value === 'string'", 'false'],
    ["'='", '""', "e.op === '=' && r.constant && typeof r.constant.value === 'string'"],
    ["'string'", '""', "e.op === '=' && r.constant && typeof r.constant.value === 'string'"],
    [
      "{ const k = r.constant.value; return { type: 'bool', fn: strict1(lf, (a) => (typeof a === 'string' ? a === k : f(a, k))) }; }",
      '{}',
    ],
    ["typeof a === 'string'", undefined, "typeof a === 'string' ? a === k : f(a, k)"],
    ["r.constant && typeof r.constant.value === 'number' && !Number.isNaN(r.constant.value)", 'false'],
    ["'number'", '""', "r.constant && typeof r.constant.value === 'number' && !Number.isNaN(r.constant.value)"],
    [
      "{ const k = r.constant.value; const num = numberTest(e.op, k); return { type: 'bool', fn: strict1(lf, (a) => (typeof a === 'number' && !Number.isNaN(a) ? num(a) : f(a, k))) }; }",
      '{}',
    ],
    ["typeof a === 'number' && !Number.isNaN(a)", 'false'],
    ["'number'", '""', "typeof a === 'number' && !Number.isNaN(a)"],
    ["typeof a === 'string' && typeof b === 'string'", undefined],
  ].map(([code, replacement, within]) => ({
    file: 'select-engine/src/exec/compile.ts',
    code,
    replacement,
    within,
    reason:
      'a fast path: = of text with a text constant, a comparison of a number with a number constant, || of two strings give what the general path gives (equals() of text is ===, compare() of two numbers their order, valueToText of a string the string)',
  })),
  // functions.ts (session 24).
  {
    file: 'select-engine/src/exec/functions.ts',
    code: 'to <= from',
    replacement: 'to < from',
    reason: 'when to is from, slice(from, to) is empty too',
  },
  {
    file: 'select-engine/src/exec/functions.ts',
    code: "'to_timestamp'",
    within: "STRING.read('to_timestamp', v)",
    reason: "the function's name only goes into badArg's message",
  },
  ...[
    ["'timestamp'", "return { type: 'timestamp', fn: () => now, constant: { value: now } };"],
    ["'any'", "type: 'any'"],
  ].map(([code, within]) => ({
    file: 'select-engine/src/exec/functions.ts',
    code,
    within,
    reason: "a static type is read only as 'int', 'float' or 'bool' (see compile.ts's entries)",
  })),
  {
    file: 'select-engine/src/exec/functions.ts',
    code: "if (!f) throw new SelectError('UnsupportedFunction', `Unsupported function: ${name}`, ctx.pos);",
    reason:
      'unreachable: the parser refuses a name functionArity does not know (ParseUnsupportedFunction... in to-ast.ts) before compiling',
  },
  // int64.ts (session 24).
  {
    file: 'select-engine/src/exec/int64.ts',
    code: "typeof v === 'number'",
    within: "typeof v === 'number' && Number.isSafeInteger(v)",
    replacement: 'true',
    reason: 'Number.isSafeInteger is false for anything but a number',
  },
  // pipeline.ts's DISTINCT (session 24).
  {
    file: 'select-engine/src/exec/pipeline.ts',
    code: '!topK!.holds(key)',
    replacement: 'true',
    reason: "a shortcut: TopK.add refuses a key it holds itself; holds() only spares writing the row's line",
  },
  {
    file: 'select-engine/src/exec/pipeline.ts',
    code: 'new Array(columns.length)',
    within: 'const values: Value[] = new Array(columns.length);',
    replacement: 'new Array()',
    reason:
      'distinctKey sets every index below columns.length before a column reads it; the length is only a size hint',
  },
];
