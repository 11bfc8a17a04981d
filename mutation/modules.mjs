// The modules that mutation testing measures (`npm run mutation`, mutation/run.mjs): the code that decides
// security and correctness. Each names what Stryker mutates and the test files that are meant to catch it
// (each run only loads these, so it stays minutes, not hours).
//
// mutate: a file, or { file, functions } for the named functions and methods of a file only (their lines
// are looked up at every run, so edits elsewhere in the file do not move the selection).
// slow: those of the tests that start servers or erasure sets, left out by `npm run mutation -- --quick`.

export const MODULES = [
  {
    name: 'auth-sigv4',
    about: 'SigV4 headers and presigned URLs, canonical requests, signed headers, credentials',
    mutate: [
      'server/src/http/auth/sigv4.ts',
      'server/src/http/auth/canonical.ts',
      'server/src/http/auth/signed-headers.ts',
      'server/src/http/auth/credentials.ts',
      'server/src/sigv4-sign.ts',
    ],
    tests: [
      'server/test/sigv4-sign.test.ts',
      'server/test/http/sigv4-rules.test.ts',
      'server/test/http/credentials.test.ts',
      'server/test/http/auth-v4.test.ts',
      'test/s3/sigv4.test.ts',
      'test/s3/signed-headers.test.ts',
    ],
    slow: ['test/s3/sigv4.test.ts', 'test/s3/signed-headers.test.ts'],
  },
  {
    name: 'auth-sigv2',
    about: 'SigV2 headers and presigned URLs',
    mutate: ['server/src/http/auth/sigv2.ts'],
    tests: ['server/test/http/auth-v2.test.ts'],
  },
  {
    name: 'aws-chunked',
    about: 'aws-chunked bodies: chunk signatures, trailers',
    mutate: ['server/src/http/auth/aws-chunked.ts'],
    tests: ['server/test/http/aws-chunked.test.ts', 'server/test/http/auth-v4.test.ts', 'test/s3/sigv4.test.ts'],
    slow: ['test/s3/sigv4.test.ts'],
  },
  {
    name: 'post-policy',
    about: 'POST object: form fields, policy document, its conditions',
    mutate: ['server/src/http/post-object.ts'],
    tests: [
      'server/test/http/post-policy.test.ts',
      'server/test/http/post-form.test.ts',
      'test/s3/post-object.test.ts',
      'test/s3/post-object-filename.test.ts',
    ],
    slow: ['test/s3/post-object.test.ts', 'test/s3/post-object-filename.test.ts'],
  },
  {
    name: 'authorize',
    about: 'authorization: bucket policy, ACLs, ownership, public access block',
    mutate: ['server/src/api/authorize.ts', 'server/src/api/acl.ts'],
    tests: [
      'server/test/api/authorize.test.ts',
      'server/test/api/acl.test.ts',
      'server/test/api/policy-conditions.test.ts',
      'test/s3/authorization.test.ts',
      'test/s3/authorization-faults.test.ts',
      'test/s3/acl.test.ts',
      'test/s3/acl-accounts.test.ts',
      'test/s3/access-config.test.ts',
      'test/s3/policy-acl-gaps.test.ts',
    ],
    slow: [
      'test/s3/authorization.test.ts',
      'test/s3/authorization-faults.test.ts',
      'test/s3/acl.test.ts',
      'test/s3/acl-accounts.test.ts',
      'test/s3/access-config.test.ts',
      'test/s3/policy-acl-gaps.test.ts',
    ],
  },
  {
    name: 'policy',
    about: 'IAM and bucket policy documents: parsing, evaluation, condition operators, condition keys, wildcards',
    mutate: [
      'server/src/api/policy-document.ts',
      'server/src/api/bucket-policy.ts',
      'server/src/api/policy-conditions.ts',
      'server/src/api/policy-keys.ts',
      'select-engine/src/wildcard.ts',
    ],
    tests: [
      'server/test/api/policy-document.test.ts',
      'server/test/api/policy-conditions.test.ts',
      'server/test/api/policy-operators.test.ts',
      'server/test/api/policy-fuzz.test.ts',
      'server/test/api/pure.test.ts',
      'select-engine/test/wildcard.test.ts',
      'test/s3/authorization.test.ts',
      'test/s3/policy-acl-gaps.test.ts',
    ],
    slow: ['test/s3/authorization.test.ts', 'test/s3/policy-acl-gaps.test.ts'],
  },
  {
    name: 'openid',
    about: 'OpenID Connect web identity tokens: settings, discovery, JWKS, algorithms, issuer, audience, expiry',
    mutate: ['server/src/api/iam/openid.ts', 'server/src/api/iam/openid-config.ts'],
    tests: ['server/test/api/openid.test.ts', 'test/iam/oidc.test.ts'],
    slow: ['test/iam/oidc.test.ts'],
  },
  {
    name: 'select-exec',
    about: 'S3 Select evaluator: expressions, functions, aggregates, values, CAST, timestamps',
    mutate: ['select-engine/src/exec/*.ts'],
    tests: [
      'select-engine/test/golden.test.ts',
      'select-engine/test/functions.test.ts',
      'select-engine/test/timestamp-bounds.test.ts',
      'select-engine/test/sql-fuzz.test.ts',
      'select-engine/test/limits.test.ts',
      'select-engine/test/beyond-aws.test.ts',
      'select-engine/test/wildcard.test.ts',
      'select-engine/test/pace-points.test.ts',
      'select-engine/test/values.test.ts',
    ],
  },
  {
    name: 'select-csv',
    about: 'S3 Select CSV scanner: dialect, record splitter, native line filter',
    mutate: ['select-engine/src/formats/csv/*.ts'],
    tests: [
      'select-engine/test/formats/csv.test.ts',
      'select-engine/test/formats/csv-line-filter.test.ts',
      'select-engine/test/formats/fuzz.test.ts',
      'select-engine/test/formats/stop.test.ts',
      'select-engine/test/golden.test.ts',
    ],
  },
  {
    name: 'select-json',
    about: 'S3 Select JSON scanner: document and lines splitters, numbers',
    mutate: ['select-engine/src/formats/json/*.ts'],
    tests: [
      'select-engine/test/formats/json.test.ts',
      'select-engine/test/formats/fuzz.test.ts',
      'select-engine/test/formats/stop.test.ts',
      'select-engine/test/golden.test.ts',
    ],
  },
  {
    name: 'storage-meta',
    about: 'object metadata: file format, key paths, versions and their quorum',
    mutate: ['server/src/storage/meta/*.ts'],
    tests: [
      'server/test/storage/meta.test.ts',
      'server/test/storage/objects.test.ts',
      'server/test/storage/versions-multipart.test.ts',
      'server/test/storage/keys-listing.test.ts',
      'server/test/storage/resilience.test.ts',
    ],
    slow: [
      'server/test/storage/objects.test.ts',
      'server/test/storage/versions-multipart.test.ts',
      'server/test/storage/keys-listing.test.ts',
      'server/test/storage/resilience.test.ts',
    ],
  },
  {
    name: 'erasure-placement',
    about: 'erasure layout and placement: set of a key, shard rotation, quorums, shard sources',
    mutate: [
      {
        file: 'server/src/storage/engine/erasure-set.ts',
        functions: ['layout', 'writeQuorum', 'defaultData', 'newErasure', 'liveDrives', 'writeDrives', 'resolve'],
      },
      { file: 'server/src/storage/engine/erasure-objects.ts', functions: ['setOf'] },
      { file: 'server/src/storage/engine/get.ts', functions: ['partSources'] },
      { file: 'server/src/storage/erasure/shard-writer.ts', functions: ['writeFrames'] },
    ],
    tests: [
      'server/test/storage/objects.test.ts',
      'server/test/storage/resilience.test.ts',
      'server/test/storage/get-batches.test.ts',
      'server/test/storage/format.test.ts',
      'server/test/storage/placement.test.ts',
    ],
    slow: ['server/test/storage/objects.test.ts', 'server/test/storage/resilience.test.ts'],
  },
];
