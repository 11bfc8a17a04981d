// Bucket policies and ACLs over HTTP: x-amz-grant-* headers on buckets and objects, every condition
// operator the policy evaluator implements (against anonymous requests whose context the test controls:
// s3:prefix, s3:max-keys, user agent, referer, source address, transport), and an explicit Deny winning
// over what an ACL or ownership grants. Operator semantics from the IAM User Guide ("Condition operators",
// "...IfExists", "Condition with multiple context keys or values", "Single-valued vs. multivalued keys").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type Grant,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ALT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const DENIED = { name: 'AccessDenied', status: 403 };

let server: TestServer;
let root: S3Client;
let alt: S3Client;
let altId: string;

beforeAll(async () => {
  ({ server, s3: root, alt } = await startWithBucket());
  // ALT's canonical id as S3 shows it: the owner of a bucket ALT creates.
  await alt.send(new CreateBucketCommand({ Bucket: 'alt-owned' }));
  altId = (await alt.send(new GetBucketAclCommand({ Bucket: 'alt-owned' }))).Owner!.ID!;
});
afterAll(() => server?.close());

/** [grantee, permission] pairs of an ACL. */
const pairs = (g: Grant[] | undefined) => (g ?? []).map((x) => [x.Grantee?.URI ?? x.Grantee?.ID, x.Permission]);
const bucketAcl = async (c: S3Client, Bucket: string) =>
  pairs((await c.send(new GetBucketAclCommand({ Bucket }))).Grants);
const objectAcl = async (c: S3Client, Bucket: string, Key: string) =>
  pairs((await c.send(new GetObjectAclCommand({ Bucket, Key }))).Grants);
const policyOf = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('x-amz-grant-* headers', () => {
  it('CreateBucket with grant headers: the ACL is exactly those grants, and they take effect', async () => {
    const b = 'grant-hdr';
    const grants = { GrantRead: `id="${altId}"`, GrantReadACP: `uri="${AUTHENTICATED}"` };
    await root.send(new CreateBucketCommand({ Bucket: b, ...grants }));
    expect(await bucketAcl(root, b)).toEqual([
      [AUTHENTICATED, 'READ_ACP'],
      [altId, 'READ'],
    ]);
    await alt.send(new ListObjectsV2Command({ Bucket: b }));
    await alt.send(new GetBucketAclCommand({ Bucket: b }));
    expect(await s3Error(alt.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })))).toEqual(DENIED);
    expect((await fetch(`${server.url}/${b}`)).status).toBe(403);
  });

  it('PutBucketAcl and PutObject / PutObjectAcl with grant headers, several grantees in one header', async () => {
    const b = 'grant-hdr-2';
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutBucketAclCommand({ Bucket: b, GrantWrite: `id="${altId}"` }));
    await alt.send(new PutObjectCommand({ Bucket: b, Key: 'by-alt', Body: 'alt wrote' }));
    const GrantRead = `uri="${ALL_USERS}", id="${altId}"`;
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'obj', Body: 'shared', GrantRead }));
    expect(await objectAcl(root, b, 'obj')).toEqual([
      [ALL_USERS, 'READ'],
      [altId, 'READ'],
    ]);
    expect(await (await fetch(`${server.url}/${b}/obj`)).text()).toBe('shared');
    expect(await s3Error(alt.send(new GetObjectAclCommand({ Bucket: b, Key: 'obj' })))).toEqual(DENIED);
    await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'obj', GrantFullControl: `id="${altId}"` }));
    expect(await objectAcl(alt, b, 'obj')).toEqual([[altId, 'FULL_CONTROL']]);
    expect((await fetch(`${server.url}/${b}/obj`)).status).toBe(403);
  });

  it('refused grant headers change nothing: with a canned ACL, unknown ids and groups, email grantees', async () => {
    const b = 'grant-hdr-bad';
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    const before = await bucketAcl(root, b);
    const objBefore = await objectAcl(root, b, 'k');
    const bad = (name: string) => ({ name, status: 400 });
    // AWS: "Specifying both Canned ACLs and Header Grants is not allowed" (400 InvalidRequest).
    const both = root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read', GrantRead: `id="${altId}"` }));
    expect(await s3Error(both)).toEqual(bad('InvalidRequest'));
    const withBoth = { Bucket: b, Key: 'k2', Body: 'v', ACL: 'private' as const, GrantRead: `id="${altId}"` };
    const putBoth = root.send(new PutObjectCommand(withBoth));
    expect(await s3Error(putBoth)).toEqual(bad('InvalidRequest'));
    // A canonical id no account has, a group S3 does not define: 400 InvalidArgument.
    const nobody = root.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'id="0000nobody"' }));
    expect(await s3Error(nobody)).toEqual(bad('InvalidArgument'));
    const group = 'uri="http://acs.amazonaws.com/groups/global/Nobody"';
    const unknownGroup = root.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', GrantRead: group }));
    expect(await s3Error(unknownGroup)).toEqual(bad('InvalidArgument'));
    // No account here has an email address: the grantee cannot be resolved, as S3 says for an unknown one.
    const email = root.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'emailAddress="someone@example.com"' }));
    expect(await s3Error(email)).toEqual(bad('UnresolvableGrantByEmailAddress'));
    expect(await bucketAcl(root, b)).toEqual(before);
    expect(await objectAcl(root, b, 'k')).toEqual(objBefore);
    const k2 = await s3Error(root.send(new GetObjectCommand({ Bucket: b, Key: 'k2' })));
    expect(k2).toMatchObject({ name: 'NoSuchKey' });
  });
});

describe('condition operators', () => {
  const b = 'conditions';
  beforeAll(async () => {
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub/a', Body: 'a' }));
  });

  type Condition = Record<string, Record<string, string | string[]>>;
  interface Probe {
    query?: Record<string, string>;
    headers?: Record<string, string>;
    want: 200 | 403;
  }
  /** Anonymous ListObjectsV2 of the bucket with `query` (prefix, max-keys, ...) and `headers`: its status. */
  const list = async (p: Probe) => {
    const query = new URLSearchParams({ 'list-type': '2', ...p.query });
    return (await fetch(`${server.url}/${b}?${query}`, { headers: p.headers })).status;
  };
  const allow = (Condition: Condition) => ({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:ListBucket',
    Resource: `arn:aws:s3:::${b}`,
    Condition,
  });
  const prefix = (p: string, want: 200 | 403): Probe => ({ query: { prefix: p }, want });
  const maxKeys = (n: string, want: 200 | 403): Probe => ({ query: { 'max-keys': n }, want });
  const agent = (ua: string, want: 200 | 403): Probe => ({ headers: { 'user-agent': ua }, want });
  const referer = (r: string, want: 200 | 403): Probe => ({ headers: { referer: r }, want });
  const none = (want: 200 | 403): Probe => ({ want });

  const cases: [string, Condition, Probe[]][] = [
    ['StringEquals', { StringEquals: { 's3:prefix': 'pub/' } }, [prefix('pub/', 200), prefix('priv/', 403), none(403)]],
    // "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and
    // the right key is not present, the condition is true." (IAM User Guide, condition operators)
    [
      'StringNotEquals',
      { StringNotEquals: { 's3:prefix': 'secret/' } },
      [prefix('pub/', 200), prefix('secret/', 403), none(200)],
    ],
    [
      'StringEqualsIgnoreCase',
      { StringEqualsIgnoreCase: { 'aws:UserAgent': 'CairnTester' } },
      [agent('cairntester', 200), agent('other', 403)],
    ],
    [
      'StringNotEqualsIgnoreCase',
      { StringNotEqualsIgnoreCase: { 'aws:UserAgent': 'BadBot' } },
      [agent('BADBOT', 403), agent('GoodBot', 200)],
    ],
    [
      'StringLike',
      { StringLike: { 'aws:Referer': ['https://*.example.com/*', 'https://app.example.org/?'] } },
      [
        referer('https://www.example.com/page', 200),
        referer('https://app.example.org/1', 200),
        referer('https://app.example.org/12', 403),
        referer('https://example.com.evil.test/', 403),
        none(403),
      ],
    ],
    [
      'StringNotLike',
      { StringNotLike: { 's3:prefix': 'private/*' } },
      [prefix('private/x', 403), prefix('pub/', 200), none(200)],
    ],
    ['Bool', { Bool: { 'aws:SecureTransport': 'false' } }, [none(200)]],
    ['Bool (true: not over plain HTTP)', { Bool: { 'aws:SecureTransport': 'true' } }, [none(403)]],
    ['NumericEquals', { NumericEquals: { 's3:max-keys': '10' } }, [maxKeys('10', 200), maxKeys('11', 403), none(403)]],
    [
      'NumericNotEquals',
      { NumericNotEquals: { 's3:max-keys': '10' } },
      [maxKeys('10', 403), maxKeys('11', 200), none(200)],
    ],
    ['NumericLessThan', { NumericLessThan: { 's3:max-keys': '10' } }, [maxKeys('9', 200), maxKeys('10', 403)]],
    [
      'NumericLessThanEquals',
      { NumericLessThanEquals: { 's3:max-keys': '10' } },
      [maxKeys('10', 200), maxKeys('11', 403)],
    ],
    ['NumericGreaterThan', { NumericGreaterThan: { 's3:max-keys': '10' } }, [maxKeys('11', 200), maxKeys('10', 403)]],
    [
      'NumericGreaterThanEquals',
      { NumericGreaterThanEquals: { 's3:max-keys': '10' } },
      [maxKeys('10', 200), maxKeys('9', 403)],
    ],
    ['IpAddress', { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, [none(200)]],
    ['IpAddress (other networks)', { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.1.1/32'] } }, [none(403)]],
    ['NotIpAddress', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, [none(200)]],
    ['NotIpAddress (this address)', { NotIpAddress: { 'aws:SourceIp': '127.0.0.1/32' } }, [none(403)]],
    ['Null true: the key is absent', { Null: { 's3:prefix': 'true' } }, [none(200), prefix('pub/', 403)]],
    ['Null false: the key is present', { Null: { 's3:prefix': 'false' } }, [none(403), prefix('pub/', 200)]],
    // "...IfExists": a key that is absent makes the condition true.
    [
      'StringEqualsIfExists',
      { StringEqualsIfExists: { 's3:prefix': 'pub/' } },
      [none(200), prefix('pub/', 200), prefix('other/', 403)],
    ],
    [
      'NumericLessThanEqualsIfExists',
      { NumericLessThanEqualsIfExists: { 's3:max-keys': '5' } },
      [none(200), maxKeys('5', 200), maxKeys('6', 403)],
    ],
    // Set operators on a single-valued key: ForAnyValue needs the key; ForAllValues is true without it.
    [
      'ForAnyValue:StringEquals',
      { 'ForAnyValue:StringEquals': { 's3:prefix': ['a/', 'pub/'] } },
      [prefix('pub/', 200), prefix('b/', 403), none(403)],
    ],
    [
      'ForAllValues:StringEquals',
      { 'ForAllValues:StringEquals': { 's3:prefix': ['a/', 'pub/'] } },
      [prefix('pub/', 200), prefix('b/', 403), none(200)],
    ],
    // ForAnyValue needs a value even with a negated operator (IAM: a missing key makes ForAnyValue false).
    [
      'ForAnyValue:StringNotEquals',
      { 'ForAnyValue:StringNotEquals': { 's3:prefix': 'secret/' } },
      [prefix('pub/', 200), prefix('secret/', 403), none(403)],
    ],
    // Date operators: ISO 8601 (W3C profile) or epoch seconds, against aws:CurrentTime or aws:EpochTime.
    ['DateGreaterThan (ISO 8601)', { DateGreaterThan: { 'aws:CurrentTime': '2000-01-01T00:00:00Z' } }, [none(200)]],
    ['DateLessThan (ISO 8601, past)', { DateLessThan: { 'aws:CurrentTime': '2000-01-01T00:00:00Z' } }, [none(403)]],
    [
      'DateLessThanEquals (epoch seconds, 2100)',
      { DateLessThanEquals: { 'aws:EpochTime': '4102444800' } },
      [none(200)],
    ],
    [
      'DateGreaterThanEquals (epoch against ISO)',
      { DateGreaterThanEquals: { 'aws:CurrentTime': '4102444800' } },
      [none(403)],
    ],
    ['DateEquals (a date without time)', { DateEquals: { 'aws:CurrentTime': '2000-01-01' } }, [none(403)]],
    [
      'DateNotEquals (with a zone offset)',
      { DateNotEquals: { 'aws:EpochTime': '2000-01-01T02:00:00+02:00' } },
      [none(200)],
    ],
    ['DateLessThanIfExists', { DateLessThanIfExists: { 'aws:CurrentTime': '2100-01-01T00:00Z' } }, [none(200)]],
    // BinaryEquals: the policy holds the value in base64.
    [
      'BinaryEquals',
      { BinaryEquals: { 'aws:UserAgent': Buffer.from('CairnTester').toString('base64') } },
      [agent('CairnTester', 200), agent('cairntester', 403)],
    ],
    ['aws:PrincipalType of an anonymous request', { StringEquals: { 'aws:PrincipalType': 'Anonymous' } }, [none(200)]],
    // Several values of one key are ORed; several keys (and operators) are ANDed.
    [
      'several keys and operators',
      {
        StringEquals: { 's3:prefix': ['a/', 'pub/'], 's3:delimiter': '/' },
        NumericLessThanEquals: { 's3:max-keys': '100' },
      },
      [
        { query: { prefix: 'pub/', delimiter: '/', 'max-keys': '50' }, want: 200 },
        { query: { prefix: 'a/', delimiter: '/', 'max-keys': '100' }, want: 200 },
        { query: { prefix: 'pub/', 'max-keys': '50' }, want: 403 },
        { query: { prefix: 'pub/', delimiter: '/', 'max-keys': '101' }, want: 403 },
      ],
    ],
  ];

  it.each(cases)('%s', async (_name, condition, probes) => {
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyOf(allow(condition)) }));
    const answered = [];
    for (const p of probes) answered.push({ ...p, want: await list(p) });
    expect(answered).toEqual(probes);
  });

  it('a Deny with a condition overrides an Allow for the requests it matches only', async () => {
    const deny = (Action: string, Condition: Condition) => ({
      Effect: 'Deny',
      Principal: '*',
      Action,
      Resource: `arn:aws:s3:::${b}`,
      Condition,
    });
    const everyone = allow({ StringLike: { 's3:prefix': '*' } });
    const secret = deny('s3:ListBucket', { StringEquals: { 's3:prefix': 'secret/' } });
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyOf(everyone, secret) }));
    expect(await list(prefix('pub/', 200))).toBe(200);
    expect(await list(prefix('secret/', 403))).toBe(403);
    // The usual "deny insecure transport" statement refuses every plain-HTTP request.
    const insecure = deny('s3:*', { Bool: { 'aws:SecureTransport': 'false' } });
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyOf(everyone, insecure) }));
    expect(await list(prefix('pub/', 403))).toBe(403);
  });
});

describe('conditions Cairn cannot evaluate', () => {
  const b = 'conditions-refused';
  const good = policyOf({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${b}/*`,
    Condition: { DateGreaterThan: { 'aws:CurrentTime': '2000-01-01T00:00:00Z' } },
  });
  const getPolicy = async () => (await root.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy;
  beforeAll(async () => {
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: good }));
  });
  const deny = (Condition: object) =>
    policyOf({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/*`,
      Condition,
    });
  const malformed = { name: 'MalformedPolicy', status: 400 };
  const notImplemented = { name: 'NotImplemented', status: 501 };
  const refused: [string, object, typeof malformed][] = [
    ['an operator IAM does not define', { StringEqualz: { 's3:prefix': 'a' } }, malformed],
    ['Null with IfExists', { NullIfExists: { 's3:prefix': 'true' } }, malformed],
    ['Null with a set operator', { 'ForAnyValue:Null': { 's3:prefix': 'true' } }, malformed],
    ['two set operators', { 'ForAnyValue:ForAllValues:StringEquals': { 's3:prefix': 'a' } }, malformed],
    ['a date that is not ISO 8601 nor epoch seconds', { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } }, malformed],
    ['a date that does not exist', { DateLessThan: { 'aws:CurrentTime': '2023-02-29T00:00:00Z' } }, malformed],
    ['a number that is not one', { NumericLessThan: { 's3:max-keys': '0x10' } }, malformed],
    ['an address that is not one', { IpAddress: { 'aws:SourceIp': '10.0.0.300/8' } }, malformed],
    ['a Bool value that is not one', { Bool: { 'aws:SecureTransport': 'yes' } }, malformed],
    ['BinaryEquals with a value not in base64', { BinaryEquals: { 'aws:UserAgent': 'not base64!' } }, malformed],
    ['an S3 key S3 does not define', { StringEquals: { 's3:no-such-key': 'a' } }, malformed],
    ["another service's key", { StringEquals: { 'ec2:Region': 'a' } }, malformed],
    ['an S3 key Cairn has no value for', { StringEquals: { 's3:ResourceAccount': '111122223333' } }, notImplemented],
    [
      'a global key AWS always sets and Cairn cannot',
      { StringEquals: { 'aws:PrincipalAccount': 'x' } },
      notImplemented,
    ],
    ['a policy variable naming a key S3 does not define', { StringLike: { 's3:prefix': '${s3:nosuch}/*' } }, malformed],
    [
      'a policy variable naming a key Cairn has no value for',
      { StringLike: { 's3:prefix': '${aws:ResourceAccount}' } },
      notImplemented,
    ],
  ];
  it.each(refused)('%s: refused, the stored policy unchanged', async (_name, condition, want) => {
    expect(await s3Error(root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: deny(condition) })))).toEqual(want);
    expect(await getPolicy()).toBe(good);
    expect(await (await fetch(`${server.url}/${b}/k`)).text()).toBe('v');
  });

  it("a policy variable in a Resource is the caller's value in 2012-10-17 documents and literal in 2008-10-17 ones", async () => {
    await root.send(new PutObjectCommand({ Bucket: b, Key: ALT.accessKey, Body: 'alt' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: '${aws:username}', Body: 'literal' }));
    const statements = [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/\${aws:username}` },
    ];
    const current = JSON.stringify({ Version: '2012-10-17', Statement: statements });
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: current }));
    // The Deny names each caller's own key: alt may not read "cairntestalt", may read the literal name.
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: b, Key: ALT.accessKey })))).toEqual({
      name: 'AccessDenied',
      status: 403,
    });
    await alt.send(new GetObjectCommand({ Bucket: b, Key: '${aws:username}' }));
    // Anonymous callers have no user name: the Deny's resource matches nothing for them.
    expect((await fetch(`${server.url}/${b}/${ALT.accessKey}`)).status).toBe(200);
    const legacy = JSON.stringify({ Version: '2008-10-17', Statement: statements });
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: legacy }));
    expect(await getPolicy()).toBe(legacy);
    await alt.send(new GetObjectCommand({ Bucket: b, Key: ALT.accessKey }));
    expect((await fetch(`${server.url}/${b}/\${aws:username}`)).status).toBe(403);
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: good }));
  });

  it('a Deny on a date applies; an aws: key no request carries is accepted and absent, as in AWS', async () => {
    const past = { DateGreaterThan: { 'aws:CurrentTime': '2000-01-01T00:00:00Z' } };
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: deny(past) }));
    expect((await fetch(`${server.url}/${b}/k`)).status).toBe(403);
    const vpce = policyOf({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/*`,
      Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
    });
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: vpce }));
    expect(await getPolicy()).toBe(vpce);
    expect(await (await fetch(`${server.url}/${b}/k`)).text()).toBe('v');
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: good }));
  });
});

describe('an explicit Deny wins', () => {
  it('over a public-read object ACL, over a bucket ACL grant, and over the bucket owner', async () => {
    const b = 'deny-acl';
    await root.send(new CreateBucketCommand({ Bucket: b, ACL: 'authenticated-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'public', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'other', Body: 'also public', ACL: 'public-read' }));
    expect((await fetch(`${server.url}/${b}/pub`)).status).toBe(200);
    await alt.send(new ListObjectsV2Command({ Bucket: b }));
    await root.send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: policyOf(
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/pub` },
          {
            Effect: 'Deny',
            Principal: { AWS: [ALT.accessKey] },
            Action: 's3:ListBucket',
            Resource: `arn:aws:s3:::${b}`,
          },
        ),
      }),
    );
    // The ACLs still grant; the Deny decides where it applies, and nowhere else.
    const denied = await fetch(`${server.url}/${b}/pub`);
    expect([denied.status, /<Code>(\w+)<\/Code>/.exec(await denied.text())?.[1]]).toEqual([403, 'AccessDenied']);
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: b, Key: 'pub' })))).toEqual(DENIED);
    expect(await (await fetch(`${server.url}/${b}/other`)).text()).toBe('also public');
    expect(await s3Error(alt.send(new ListObjectsV2Command({ Bucket: b })))).toEqual(DENIED);
    await root.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    expect((await fetch(`${server.url}/${b}/pub`)).status).toBe(200);
    await alt.send(new ListObjectsV2Command({ Bucket: b }));

    // The owner of a bucket is refused by its own Deny, yet may still manage (remove) the policy.
    await alt.send(new PutObjectCommand({ Bucket: 'alt-owned', Key: 'mine', Body: 'mine' }));
    await alt.send(
      new PutBucketPolicyCommand({
        Bucket: 'alt-owned',
        Policy: policyOf({
          Effect: 'Deny',
          Principal: { AWS: [ALT.accessKey] },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::alt-owned/*',
        }),
      }),
    );
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: 'alt-owned', Key: 'mine' })))).toEqual(DENIED);
    await alt.send(new DeleteBucketPolicyCommand({ Bucket: 'alt-owned' }));
    const mine = await alt.send(new GetObjectCommand({ Bucket: 'alt-owned', Key: 'mine' }));
    expect(await mine.Body!.transformToString()).toBe('mine');
  });
});
