// Bucket policies and ACLs over HTTP: x-amz-grant-* headers on buckets and objects, every condition
// operator the policy evaluator implements (against anonymous requests whose context the test controls:
// s3:prefix, s3:max-keys, user agent, referer, source address, transport), and an explicit Deny winning
// over what an ACL or ownership grants. Operator semantics from the IAM User Guide ("Condition operators",
// "...IfExists", "Condition with multiple context keys or values", "Single-valued vs. multivalued keys").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, GetBucketAclCommand, GetObjectAclCommand, GetObjectCommand, ListObjectsV2Command,
  PutBucketAclCommand, PutBucketPolicyCommand, PutObjectAclCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { ALT, s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

let server: TestServer;
let root: S3Client;
let alt: S3Client;
let altId: string;

beforeAll(async () => {
  server = await startTestServer();
  root = server.client();
  alt = server.client({ credentials: ALT });
  // ALT's canonical id as S3 shows it: the owner of a bucket ALT creates.
  await alt.send(new CreateBucketCommand({ Bucket: 'alt-owned' }));
  altId = (await alt.send(new GetBucketAclCommand({ Bucket: 'alt-owned' }))).Owner!.ID!;
});
afterAll(async () => {
  await server?.close();
});

const grants = (g: { Grantee?: { ID?: string; URI?: string }; Permission?: string }[] | undefined) =>
  (g ?? []).map((x) => [x.Grantee?.URI ?? x.Grantee?.ID, x.Permission]);

describe('x-amz-grant-* headers', () => {
  it('CreateBucket with grant headers: the ACL is exactly those grants, and they take effect', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'grant-hdr', GrantRead: `id="${altId}"`, GrantReadACP: `uri="${AUTHENTICATED}"` }));
    expect(grants((await root.send(new GetBucketAclCommand({ Bucket: 'grant-hdr' }))).Grants)).toEqual([[AUTHENTICATED, 'READ_ACP'], [altId, 'READ']]);
    await alt.send(new ListObjectsV2Command({ Bucket: 'grant-hdr' }));
    await alt.send(new GetBucketAclCommand({ Bucket: 'grant-hdr' }));
    expect(await s3Error(alt.send(new PutObjectCommand({ Bucket: 'grant-hdr', Key: 'k', Body: 'x' })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect((await fetch(`${server.url}/grant-hdr`)).status).toBe(403);
  });

  it('PutBucketAcl and PutObject / PutObjectAcl with grant headers, several grantees in one header', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'grant-hdr-2' }));
    await root.send(new PutBucketAclCommand({ Bucket: 'grant-hdr-2', GrantWrite: `id="${altId}"` }));
    await alt.send(new PutObjectCommand({ Bucket: 'grant-hdr-2', Key: 'by-alt', Body: 'alt wrote' }));
    await root.send(new PutObjectCommand({ Bucket: 'grant-hdr-2', Key: 'obj', Body: 'shared', GrantRead: `uri="${ALL_USERS}", id="${altId}"` }));
    expect(grants((await root.send(new GetObjectAclCommand({ Bucket: 'grant-hdr-2', Key: 'obj' }))).Grants)).toEqual([[ALL_USERS, 'READ'], [altId, 'READ']]);
    expect(await (await fetch(`${server.url}/grant-hdr-2/obj`)).text()).toBe('shared');
    expect(await s3Error(alt.send(new GetObjectAclCommand({ Bucket: 'grant-hdr-2', Key: 'obj' })))).toMatchObject({ status: 403 });
    await root.send(new PutObjectAclCommand({ Bucket: 'grant-hdr-2', Key: 'obj', GrantFullControl: `id="${altId}"` }));
    expect(grants((await alt.send(new GetObjectAclCommand({ Bucket: 'grant-hdr-2', Key: 'obj' }))).Grants)).toEqual([[altId, 'FULL_CONTROL']]);
    expect((await fetch(`${server.url}/grant-hdr-2/obj`)).status).toBe(403);
  });

  it('refused grant headers change nothing: canned ACL with grants, unknown ids and groups, email grantees', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'grant-hdr-bad' }));
    await root.send(new PutObjectCommand({ Bucket: 'grant-hdr-bad', Key: 'k', Body: 'v' }));
    const before = grants((await root.send(new GetBucketAclCommand({ Bucket: 'grant-hdr-bad' }))).Grants);
    const objBefore = grants((await root.send(new GetObjectAclCommand({ Bucket: 'grant-hdr-bad', Key: 'k' }))).Grants);
    // AWS: "Specifying both Canned ACLs and Header Grants is not allowed" (400 InvalidRequest).
    expect(await s3Error(root.send(new PutBucketAclCommand({ Bucket: 'grant-hdr-bad', ACL: 'public-read', GrantRead: `id="${altId}"` })))).toEqual({ name: 'InvalidRequest', status: 400 });
    // A canonical id no account has, a group S3 does not define: 400 InvalidArgument.
    expect(await s3Error(root.send(new PutBucketAclCommand({ Bucket: 'grant-hdr-bad', GrantRead: 'id="0000nobody"' })))).toEqual({ name: 'InvalidArgument', status: 400 });
    expect(await s3Error(root.send(new PutObjectAclCommand({ Bucket: 'grant-hdr-bad', Key: 'k', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/Nobody"' })))).toEqual({ name: 'InvalidArgument', status: 400 });
    // No account here has an email address: the grantee cannot be resolved, as S3 says for an unknown one.
    expect(await s3Error(root.send(new PutBucketAclCommand({ Bucket: 'grant-hdr-bad', GrantRead: 'emailAddress="someone@example.com"' })))).toEqual({ name: 'UnresolvableGrantByEmailAddress', status: 400 });
    expect(await s3Error(root.send(new PutObjectCommand({ Bucket: 'grant-hdr-bad', Key: 'k2', Body: 'v', ACL: 'private', GrantRead: `id="${altId}"` })))).toEqual({ name: 'InvalidRequest', status: 400 });
    expect(grants((await root.send(new GetBucketAclCommand({ Bucket: 'grant-hdr-bad' }))).Grants)).toEqual(before);
    expect(grants((await root.send(new GetObjectAclCommand({ Bucket: 'grant-hdr-bad', Key: 'k' }))).Grants)).toEqual(objBefore);
    expect(await s3Error(root.send(new GetObjectCommand({ Bucket: 'grant-hdr-bad', Key: 'k2' })))).toMatchObject({ name: 'NoSuchKey' });
  });
});

describe('condition operators', () => {
  const b = 'conditions';
  beforeAll(async () => {
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub/a', Body: 'a' }));
  });

  interface Probe { query?: Record<string, string>; headers?: Record<string, string>; want: 200 | 403 }
  /** Anonymous ListObjectsV2 of the bucket with `query` (prefix, max-keys, ...) and `headers`: its status. */
  const list = async (p: Probe) => (await fetch(`${server.url}/${b}?${new URLSearchParams({ 'list-type': '2', ...p.query })}`, { headers: p.headers })).status;
  const allow = (Condition: Record<string, Record<string, string | string[]>>) => ({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition });

  const cases: [string, Record<string, Record<string, string | string[]>>, Probe[]][] = [
    ['StringEquals', { StringEquals: { 's3:prefix': 'pub/' } }, [
      { query: { prefix: 'pub/' }, want: 200 }, { query: { prefix: 'priv/' }, want: 403 }, { want: 403 }]],
    // "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and
    // the right key is not present, the condition is true." (IAM User Guide, condition operators)
    ['StringNotEquals', { StringNotEquals: { 's3:prefix': 'secret/' } }, [
      { query: { prefix: 'pub/' }, want: 200 }, { query: { prefix: 'secret/' }, want: 403 }, { want: 200 }]],
    ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:UserAgent': 'CairnTester' } }, [
      { headers: { 'user-agent': 'cairntester' }, want: 200 }, { headers: { 'user-agent': 'other' }, want: 403 }]],
    ['StringNotEqualsIgnoreCase', { StringNotEqualsIgnoreCase: { 'aws:UserAgent': 'BadBot' } }, [
      { headers: { 'user-agent': 'BADBOT' }, want: 403 }, { headers: { 'user-agent': 'GoodBot' }, want: 200 }]],
    ['StringLike', { StringLike: { 'aws:Referer': ['https://*.example.com/*', 'https://app.example.org/?'] } }, [
      { headers: { referer: 'https://www.example.com/page' }, want: 200 }, { headers: { referer: 'https://app.example.org/1' }, want: 200 },
      { headers: { referer: 'https://app.example.org/12' }, want: 403 }, { headers: { referer: 'https://example.com.evil.test/' }, want: 403 }, { want: 403 }]],
    ['StringNotLike', { StringNotLike: { 's3:prefix': 'private/*' } }, [
      { query: { prefix: 'private/x' }, want: 403 }, { query: { prefix: 'pub/' }, want: 200 }, { want: 200 }]],
    ['Bool', { Bool: { 'aws:SecureTransport': 'false' } }, [{ want: 200 }]],
    ['Bool (true: not over plain HTTP)', { Bool: { 'aws:SecureTransport': 'true' } }, [{ want: 403 }]],
    ['NumericEquals', { NumericEquals: { 's3:max-keys': '10' } }, [
      { query: { 'max-keys': '10' }, want: 200 }, { query: { 'max-keys': '11' }, want: 403 }, { want: 403 }]],
    ['NumericNotEquals', { NumericNotEquals: { 's3:max-keys': '10' } }, [
      { query: { 'max-keys': '10' }, want: 403 }, { query: { 'max-keys': '11' }, want: 200 }, { want: 200 }]],
    ['NumericLessThan', { NumericLessThan: { 's3:max-keys': '10' } }, [
      { query: { 'max-keys': '9' }, want: 200 }, { query: { 'max-keys': '10' }, want: 403 }]],
    ['NumericLessThanEquals', { NumericLessThanEquals: { 's3:max-keys': '10' } }, [
      { query: { 'max-keys': '10' }, want: 200 }, { query: { 'max-keys': '11' }, want: 403 }]],
    ['NumericGreaterThan', { NumericGreaterThan: { 's3:max-keys': '10' } }, [
      { query: { 'max-keys': '11' }, want: 200 }, { query: { 'max-keys': '10' }, want: 403 }]],
    ['NumericGreaterThanEquals', { NumericGreaterThanEquals: { 's3:max-keys': '10' } }, [
      { query: { 'max-keys': '10' }, want: 200 }, { query: { 'max-keys': '9' }, want: 403 }]],
    ['IpAddress', { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, [{ want: 200 }]],
    ['IpAddress (another network)', { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.1.1/32'] } }, [{ want: 403 }]],
    ['NotIpAddress', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, [{ want: 200 }]],
    ['NotIpAddress (this address)', { NotIpAddress: { 'aws:SourceIp': '127.0.0.1/32' } }, [{ want: 403 }]],
    ['Null true: the key is absent', { Null: { 's3:prefix': 'true' } }, [{ want: 200 }, { query: { prefix: 'pub/' }, want: 403 }]],
    ['Null false: the key is present', { Null: { 's3:prefix': 'false' } }, [{ want: 403 }, { query: { prefix: 'pub/' }, want: 200 }]],
    // "...IfExists": a key that is absent makes the condition true.
    ['StringEqualsIfExists', { StringEqualsIfExists: { 's3:prefix': 'pub/' } }, [
      { want: 200 }, { query: { prefix: 'pub/' }, want: 200 }, { query: { prefix: 'other/' }, want: 403 }]],
    ['NumericLessThanEqualsIfExists', { NumericLessThanEqualsIfExists: { 's3:max-keys': '5' } }, [
      { want: 200 }, { query: { 'max-keys': '5' }, want: 200 }, { query: { 'max-keys': '6' }, want: 403 }]],
    // Set operators on a single-valued key: ForAnyValue needs the key; ForAllValues is true without it.
    ['ForAnyValue:StringEquals', { 'ForAnyValue:StringEquals': { 's3:prefix': ['a/', 'pub/'] } }, [
      { query: { prefix: 'pub/' }, want: 200 }, { query: { prefix: 'b/' }, want: 403 }, { want: 403 }]],
    ['ForAllValues:StringEquals', { 'ForAllValues:StringEquals': { 's3:prefix': ['a/', 'pub/'] } }, [
      { query: { prefix: 'pub/' }, want: 200 }, { query: { prefix: 'b/' }, want: 403 }, { want: 200 }]],
    // Several values of one key are ORed; several keys (and operators) are ANDed.
    ['several keys and operators', { StringEquals: { 's3:prefix': ['a/', 'pub/'], 's3:delimiter': '/' }, NumericLessThanEquals: { 's3:max-keys': '100' } }, [
      { query: { prefix: 'pub/', delimiter: '/', 'max-keys': '50' }, want: 200 }, { query: { prefix: 'a/', delimiter: '/', 'max-keys': '100' }, want: 200 },
      { query: { prefix: 'pub/', 'max-keys': '50' }, want: 403 }, { query: { prefix: 'pub/', delimiter: '/', 'max-keys': '101' }, want: 403 }]],
  ];

  it.each(cases)('%s', async (_name, condition, probes) => {
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [allow(condition)] }) }));
    const got = [];
    for (const p of probes) got.push({ ...p, want: await list(p) });
    expect(got).toEqual(probes);
  });

  it('a Deny with a condition overrides an Allow for the requests it matches only', async () => {
    const policy = { Version: '2012-10-17', Statement: [
      allow({ StringLike: { 's3:prefix': '*' } }),
      { Effect: 'Deny', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringEquals: { 's3:prefix': 'secret/' } } },
    ] };
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }));
    expect(await list({ query: { prefix: 'pub/' }, want: 200 })).toBe(200);
    expect(await list({ query: { prefix: 'secret/' }, want: 403 })).toBe(403);
    // The usual "deny insecure transport" statement refuses every plain-HTTP request.
    policy.Statement[1] = { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${b}`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } } as never;
    await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }));
    expect(await list({ query: { prefix: 'pub/' }, want: 403 })).toBe(403);
  });
});

describe('an explicit Deny wins', () => {
  it('over a public-read object ACL, over a bucket ACL grant, and over the bucket owner', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'deny-acl', ACL: 'authenticated-read' }));
    await root.send(new PutObjectCommand({ Bucket: 'deny-acl', Key: 'pub', Body: 'public', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: 'deny-acl', Key: 'other', Body: 'also public', ACL: 'public-read' }));
    expect((await fetch(`${server.url}/deny-acl/pub`)).status).toBe(200);
    await alt.send(new ListObjectsV2Command({ Bucket: 'deny-acl' }));
    await root.send(new PutBucketPolicyCommand({ Bucket: 'deny-acl', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::deny-acl/pub' },
      { Effect: 'Deny', Principal: { AWS: [ALT.accessKey] }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::deny-acl' },
    ] }) }));
    // The ACLs still grant; the Deny decides where it applies, and nowhere else.
    const denied = await fetch(`${server.url}/deny-acl/pub`);
    expect([denied.status, /<Code>(\w+)<\/Code>/.exec(await denied.text())?.[1]]).toEqual([403, 'AccessDenied']);
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: 'deny-acl', Key: 'pub' })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await (await fetch(`${server.url}/deny-acl/other`)).text()).toBe('also public');
    expect(await s3Error(alt.send(new ListObjectsV2Command({ Bucket: 'deny-acl' })))).toEqual({ name: 'AccessDenied', status: 403 });
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'deny-acl' }));
    expect((await fetch(`${server.url}/deny-acl/pub`)).status).toBe(200);
    await alt.send(new ListObjectsV2Command({ Bucket: 'deny-acl' }));

    // The owner of a bucket is refused by its own Deny, yet may still manage (remove) the policy.
    await alt.send(new PutObjectCommand({ Bucket: 'alt-owned', Key: 'mine', Body: 'mine' }));
    await alt.send(new PutBucketPolicyCommand({ Bucket: 'alt-owned', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Deny', Principal: { AWS: [ALT.accessKey] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::alt-owned/*' },
    ] }) }));
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: 'alt-owned', Key: 'mine' })))).toEqual({ name: 'AccessDenied', status: 403 });
    await alt.send(new DeleteBucketPolicyCommand({ Bucket: 'alt-owned' }));
    expect(await (await alt.send(new GetObjectCommand({ Bucket: 'alt-owned', Key: 'mine' }))).Body!.transformToString()).toBe('mine');
  });
});
