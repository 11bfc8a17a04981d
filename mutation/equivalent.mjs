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
];
