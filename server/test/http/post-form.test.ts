// A POST policy form, piece by piece without a server: who signed it (SigV4 or SigV2 over the policy, after AWS's
// "Authenticating Requests in Browser-Based Uploads Using POST"), its key and ${filename}, the policy checked with
// the URL's bucket, the fields that become the PutObject's headers, content-length-range while the file streams,
// and the answer (success_action_redirect, success_action_status). The uploads end to end over HTTP:
// test/s3/post-object.test.ts; the policy document alone: post-policy.test.ts.
import { createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { credentialStore } from '../../src/http/auth/credentials.js';
import {
  formAnswer,
  formHeaders,
  formKey,
  formPolicyRange,
  LengthRange,
  postAuth,
} from '../../src/http/post-object.js';
import { S3Error } from '../../src/errors.js';
import { thrownCode } from '../thrown-code.js';

const ROOT = { accessKey: 'post-root', secretKey: 'post-root-secret' };
const USER = { accessKey: 'team/uploader', secretKey: 'uploader-secret' }; // an access key holding a slash
const auth = { credentials: credentialStore({ root: ROOT, users: [USER] }), region: 'us-east-1' };
const DATE = '20300101';
const AMZ_DATE = '20300101T000000Z';
const POLICY = Buffer.from('{"expiration":"2030-01-01T01:00:00Z","conditions":[]}').toString('base64');

const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
const fields = (o: Record<string, string>) => new Map(Object.entries(o));

/** The fields of a SigV4-signed form; `over` replaces or (undefined) removes some. */
function v4(
  over: Record<string, string | undefined> = {},
  who = ROOT,
  scope = { date: DATE, region: 'us-east-1', service: 's3' },
): Map<string, string> {
  const key = hmac(hmac(hmac(hmac(`AWS4${who.secretKey}`, scope.date), scope.region), scope.service), 'aws4_request');
  const all: Record<string, string | undefined> = {
    key: 'k',
    policy: POLICY,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': `${who.accessKey}/${scope.date}/${scope.region}/${scope.service}/aws4_request`,
    'x-amz-date': AMZ_DATE,
    'x-amz-signature': hmac(key, POLICY).toString('hex'),
    ...over,
  };
  return new Map(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The fields of a SigV2-signed form. */
function v2(over: Record<string, string | undefined> = {}, who = ROOT): Map<string, string> {
  const all: Record<string, string | undefined> = {
    key: 'k',
    policy: POLICY,
    awsaccesskeyid: who.accessKey,
    signature: createHmac('sha1', who.secretKey).update(POLICY).digest('base64'),
    ...over,
  };
  return new Map(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Code and ArgumentName (part of the error document clients read) of what `f` throws. */
function refusal(f: () => unknown): { code: string; argument?: string } | 'ok' {
  try {
    f();
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
    return e.extra.ArgumentName === undefined ? { code: e.code } : { code: e.code, argument: e.extra.ArgumentName };
  }
  return 'ok';
}

describe('who signed the form', () => {
  it('no policy and no signature: an anonymous form; a signature without a policy is refused', () => {
    expect(postAuth(auth, fields({ key: 'k' }))).toBeUndefined();
    for (const sig of ['x-amz-signature', 'signature']) {
      expect(
        refusal(() => postAuth(auth, fields({ key: 'k', [sig]: 'abc' }))),
        sig,
      ).toEqual({
        code: 'InvalidArgument',
        argument: 'policy',
      });
    }
  });

  it('a policy needs a signature', () => {
    expect(refusal(() => postAuth(auth, fields({ key: 'k', policy: POLICY })))).toEqual({
      code: 'InvalidArgument',
      argument: 'x-amz-signature',
    });
  });

  it('SigV4: the signer and how it signed', () => {
    const got = postAuth(auth, v4());
    expect(got?.identity.accessKey).toBe(ROOT.accessKey);
    expect(got?.identity.secretKey).toBe(ROOT.secretKey);
    expect(got?.signature).toEqual({
      version: 'AWS4-HMAC-SHA256',
      type: 'POST',
      signedAt: Date.parse('2030-01-01T00:00:00Z'),
    });
    // The access key is all of the credential before its four scope parts, slashes included.
    expect(postAuth(auth, v4({}, USER))?.identity.accessKey).toBe(USER.accessKey);
  });

  it('SigV4: the signing key is derived from the credential scope', () => {
    // Signed for another date or service than the credential names: the signature cannot match.
    const other = v4({}, ROOT, { date: '20300102', region: 'us-east-1', service: 's3' });
    expect(refusal(() => postAuth(auth, v4({ 'x-amz-signature': other.get('x-amz-signature') })))).toEqual({
      code: 'SignatureDoesNotMatch',
    });
    const sts = v4({}, ROOT, { date: DATE, region: 'us-east-1', service: 'sts' });
    expect(refusal(() => postAuth(auth, v4({ 'x-amz-signature': sts.get('x-amz-signature') })))).toEqual({
      code: 'SignatureDoesNotMatch',
    });
    // A scope naming its own date and service, signed for them, verifies.
    expect(postAuth(auth, sts)?.identity.accessKey).toBe(ROOT.accessKey);
  });

  it('SigV4: refuses a wrong algorithm, credential, region, date, key, token or signature', () => {
    const cases: [Map<string, string>, { code: string; argument?: string }][] = [
      [v4({ 'x-amz-algorithm': undefined }), { code: 'InvalidArgument', argument: 'x-amz-algorithm' }],
      [v4({ 'x-amz-algorithm': 'AWS4-HMAC-SHA1' }), { code: 'InvalidArgument', argument: 'x-amz-algorithm' }],
      [v4({ 'x-amz-credential': undefined }), { code: 'InvalidArgument', argument: 'x-amz-credential' }],
      [
        v4({ 'x-amz-credential': `${DATE}/us-east-1/s3/aws4_request` }),
        { code: 'InvalidArgument', argument: 'x-amz-credential' },
      ],
      [v4({}, ROOT, { date: DATE, region: 'eu-west-1', service: 's3' }), { code: 'AuthorizationQueryParametersError' }],
      [v4({ 'x-amz-date': undefined }), { code: 'InvalidArgument', argument: 'x-amz-date' }],
      [v4({ 'x-amz-date': '2030-01-01' }), { code: 'InvalidArgument', argument: 'x-amz-date' }],
      [v4({}, { accessKey: 'nobody', secretKey: ROOT.secretKey }), { code: 'InvalidAccessKeyId' }],
      [v4({ 'x-amz-security-token': 'token' }), { code: 'InvalidToken' }],
      [v4({}, { accessKey: ROOT.accessKey, secretKey: 'wrong' }), { code: 'SignatureDoesNotMatch' }],
      [v4({ policy: `${POLICY}=` }), { code: 'SignatureDoesNotMatch' }],
    ];
    for (const [form, want] of cases)
      expect(
        refusal(() => postAuth(auth, form)),
        JSON.stringify([...form]),
      ).toEqual(want);
    // A credential of exactly five parts is whole (an access key without slashes).
    expect(postAuth(auth, v4())).toBeDefined();
  });

  it('SigV2: the signer; a wrong key, token or signature is refused', () => {
    const got = postAuth(auth, v2());
    expect(got?.identity.accessKey).toBe(ROOT.accessKey);
    expect(got?.signature).toEqual({ version: 'AWS', type: 'POST' });
    expect(postAuth(auth, v2({}, USER))?.identity.accessKey).toBe(USER.accessKey);
    expect(refusal(() => postAuth(auth, v2({}, { accessKey: ROOT.accessKey, secretKey: 'wrong' })))).toEqual({
      code: 'SignatureDoesNotMatch',
    });
    expect(refusal(() => postAuth(auth, v2({ awsaccesskeyid: undefined })))).toEqual({ code: 'InvalidAccessKeyId' });
    expect(refusal(() => postAuth(auth, v2({ awsaccesskeyid: 'nobody' })))).toEqual({ code: 'InvalidAccessKeyId' });
    expect(refusal(() => postAuth(auth, v2({ 'x-amz-security-token': 'token' })))).toEqual({ code: 'InvalidToken' });
  });

  it('a form with both signatures is a SigV4 form', () => {
    const both = new Map([...v2({}, USER), ...v4()]);
    expect(postAuth(auth, both)?.signature.version).toBe('AWS4-HMAC-SHA256');
    expect(postAuth(auth, both)?.identity.accessKey).toBe(ROOT.accessKey);
  });
});

describe('the key', () => {
  it('is the key field with every ${filename} replaced by the file name', () => {
    expect(formKey(fields({ key: 'a/b.txt' }), 'up.txt')).toBe('a/b.txt');
    expect(formKey(fields({ key: 'user/${filename}' }), 'up.txt')).toBe('user/up.txt');
    expect(formKey(fields({ key: '${filename}/${filename}' }), 'x')).toBe('x/x');
    expect(formKey(fields({ key: '${FILENAME}' }), 'x')).toBe('${FILENAME}');
  });

  it('must be there and not be empty', () => {
    expect(refusal(() => formKey(fields({}), 'up.txt'))).toEqual({ code: 'InvalidArgument', argument: 'key' });
    expect(refusal(() => formKey(fields({ key: '' }), 'up.txt'))).toEqual({ code: 'InvalidArgument', argument: 'key' });
    expect(refusal(() => formKey(fields({ key: '${filename}' }), ''))).toEqual({
      code: 'InvalidArgument',
      argument: 'key',
    });
  });
});

describe('the form against its policy', () => {
  const NOW = Date.parse('2030-01-01T00:00:00Z');
  const policy = (conditions: unknown[], expiration = '2030-01-01T01:00:00Z') =>
    Buffer.from(JSON.stringify({ expiration, conditions })).toString('base64');
  const range = (form: Record<string, string>, bucket: string, key: string) =>
    refusal(() => formPolicyRange(fields(form), bucket, key, NOW)) === 'ok'
      ? formPolicyRange(fields(form), bucket, key, NOW)
      : refusal(() => formPolicyRange(fields(form), bucket, key, NOW));

  it('a form without a policy (anonymous) has no conditions and no range', () => {
    expect(range({ key: 'k', 'x-amz-meta-a': '1' }, 'b', 'k')).toBeUndefined();
  });

  it('gives the policy range; the policy is read at the time given', () => {
    const p = policy([{ bucket: 'b' }, { key: 'k' }, ['content-length-range', 2, 9]]);
    expect(range({ key: 'k', policy: p }, 'b', 'k')).toEqual({ min: 2, max: 9 });
    expect(range({ key: 'k', policy: policy([{ bucket: 'b' }, { key: 'k' }]) }, 'b', 'k')).toBeUndefined();
    const expired = policy([{ bucket: 'b' }, { key: 'k' }], '2029-12-31T23:59:59Z');
    expect(range({ key: 'k', policy: expired }, 'b', 'k')).toEqual({ code: 'AccessDenied' });
    expect(range({ key: 'k', policy: 'not base64 json' }, 'b', 'k')).toEqual({ code: 'InvalidPolicyDocument' });
  });

  it("the bucket is the URL's, whatever the form says", () => {
    const p = policy([{ bucket: 'b' }, ['starts-with', '$key', '']]);
    expect(range({ key: 'k', policy: p }, 'b', 'k')).toBeUndefined();
    expect(range({ key: 'k', policy: p }, 'other', 'k')).toEqual({ code: 'AccessDenied' });
    expect(range({ key: 'k', policy: p, bucket: 'b' }, 'other', 'k')).toEqual({ code: 'AccessDenied' });
    // The bucket counts as a field: a policy must name it.
    expect(range({ key: 'k', policy: policy([{ key: 'k' }]) }, 'b', 'k')).toEqual({ code: 'AccessDenied' });
  });

  it('the key may match as sent (with ${filename}) or with the file name put in', () => {
    const prefix = policy([{ bucket: 'b' }, ['starts-with', '$key', 'foo'], ['content-length-range', 0, 5]]);
    expect(range({ key: '${filename}', policy: prefix }, 'b', 'foo.txt')).toEqual({ min: 0, max: 5 });
    expect(range({ key: '${filename}', policy: prefix }, 'b', 'bar.txt')).toEqual({ code: 'AccessDenied' });
    const literal = policy([{ bucket: 'b' }, { key: 'u/${filename}' }, ['content-length-range', 1, 5]]);
    expect(range({ key: 'u/${filename}', policy: literal }, 'b', 'u/a.txt')).toEqual({ min: 1, max: 5 });
    // Other conditions still hold either way.
    const both = policy([{ bucket: 'b' }, ['starts-with', '$key', 'foo'], { acl: 'private' }]);
    expect(range({ key: '${filename}', policy: both, acl: 'public-read' }, 'b', 'foo.txt')).toEqual({
      code: 'AccessDenied',
    });
  });
});

describe('form fields as the PutObject headers', () => {
  const utf8AsBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

  it('user metadata and the Content-* fields keep their bytes; other x-amz-* fields are passed as they are', () => {
    const form = fields({
      'x-amz-meta-name': 'é',
      'content-type': 'text/é',
      'content-disposition': 'attachment; filename="é"',
      'content-encoding': 'gzip-é',
      'cache-control': 'max-age=é',
      expires: 'é',
      'content-md5': 'é',
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-checksum-crc32': 'é',
      'x-amz-storage-class': 'STANDARD',
    });
    expect(formHeaders(form, 'image/png')).toStrictEqual({
      'x-amz-meta-name': utf8AsBytes('é'),
      'content-type': utf8AsBytes('text/é'),
      'content-disposition': utf8AsBytes('attachment; filename="é"'),
      'content-encoding': utf8AsBytes('gzip-é'),
      'cache-control': utf8AsBytes('max-age=é'),
      expires: utf8AsBytes('é'),
      'content-md5': utf8AsBytes('é'),
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-checksum-crc32': 'é',
      'x-amz-storage-class': 'STANDARD',
    });
  });

  it('the signature fields and the fields of the form itself are no headers', () => {
    const form = new Map([
      ...v4({ 'x-amz-security-token': 't' }),
      ['success_action_status', '201'],
      ['success_action_redirect', 'http://example.com/'],
      ['x-ignore-a', '1'],
      ['file', 'f'],
      ['content-language', 'en'],
    ]);
    expect(formHeaders(form, undefined)).toStrictEqual({});
  });

  it("the file part's content type when the form names none", () => {
    expect(formHeaders(fields({}), 'image/é')).toStrictEqual({ 'content-type': utf8AsBytes('image/é') });
    expect(formHeaders(fields({ 'content-type': 'text/plain' }), 'image/png')).toStrictEqual({
      'content-type': 'text/plain',
    });
    expect(formHeaders(fields({}), '')).toStrictEqual({});
  });

  it('acl is the canned ACL; tagging a Tagging document sent on as a query string', () => {
    expect(formHeaders(fields({ acl: 'public-read' }), undefined)).toStrictEqual({ 'x-amz-acl': 'public-read' });
    const xml = '<Tagging><TagSet><Tag><Key>a b</Key><Value>1</Value></Tag><Tag><Key>c</Key></Tag></TagSet></Tagging>';
    expect(formHeaders(fields({ tagging: xml }), undefined)).toStrictEqual({ 'x-amz-tagging': 'a+b=1&c=' });
    expect(thrownCode(() => formHeaders(fields({ tagging: '<Tagging/>' }), undefined))).toBe('MalformedXML');
    // An object's tag set: ten tags at most (a bucket may have 50).
    const set = (n: number) =>
      `<Tagging><TagSet>${Array.from({ length: n }, (_, i) => `<Tag><Key>k${i}</Key><Value>v</Value></Tag>`).join('')}</TagSet></Tagging>`;
    expect(thrownCode(() => formHeaders(fields({ tagging: set(10) }), undefined))).toBeUndefined();
    expect(thrownCode(() => formHeaders(fields({ tagging: set(11) }), undefined))).toBe('BadRequest');
  });
});

describe('content-length-range while the file streams', () => {
  async function stream(chunks: number[], min: number, max: number): Promise<number | string> {
    let got = 0;
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        got += c.length;
        cb();
      },
    });
    try {
      await pipeline(Readable.from(chunks.map((n) => Buffer.alloc(n, 1))), new LengthRange(min, max), sink);
    } catch (e) {
      return e instanceof S3Error ? `${e.code} ${JSON.stringify(e.extra)}` : String(e);
    }
    return got;
  }

  it('passes a file within the range through unchanged, its bounds included', async () => {
    expect(await stream([3, 4], 7, 7)).toBe(7);
    expect(await stream([1, 2, 3], 0, 10)).toBe(6);
    expect(await stream([], 0, 0)).toBe(0);
  });

  it('over the maximum: EntityTooLarge (with the maximum) as soon as the count passes it', async () => {
    expect(await stream([3, 5], 0, 7)).toBe('EntityTooLarge {"MaxSizeAllowed":"7"}');
    expect(await stream([8], 0, 7)).toBe('EntityTooLarge {"MaxSizeAllowed":"7"}');
  });

  it('under the minimum: EntityTooSmall (with the minimum) at the end', async () => {
    expect(await stream([3, 3], 7, 10)).toBe('EntityTooSmall {"MinSizeAllowed":"7"}');
    expect(await stream([], 1, 10)).toBe('EntityTooSmall {"MinSizeAllowed":"1"}');
  });
});

describe('the answer', () => {
  const put = { status: 200, headers: { etag: '"abc"', 'x-amz-version-id': 'v1' } };
  const path = { endpoint: { base: 'http://127.0.0.1:9000', virtualHost: false }, bucket: 'b', key: 'a b/c.txt' };
  const LOCATION = 'http://127.0.0.1:9000/b/a%20b/c.txt';

  it('204 by default, with the object URL and the PutObject headers', () => {
    for (const status of [undefined, '204', '202', '']) {
      const form = fields(status === undefined ? {} : { success_action_status: status });
      expect(formAnswer(form, put, path), String(status)).toEqual({
        status: 204,
        headers: { ...put.headers, location: LOCATION },
      });
    }
    const virtual = { ...path, endpoint: { base: 'http://b.s3.local', virtualHost: true } };
    expect(formAnswer(fields({}), put, virtual).headers.location).toBe('http://b.s3.local/a%20b/c.txt');
  });

  it('success_action_status 200 and 201 (a PostResponse document)', () => {
    expect(formAnswer(fields({ success_action_status: '200' }), put, path)).toEqual({
      status: 200,
      headers: { ...put.headers, location: LOCATION },
    });
    const created = formAnswer(fields({ success_action_status: '201' }), put, path);
    expect(created.status).toBe(201);
    expect(created.headers).toEqual({ ...put.headers, location: LOCATION, 'content-type': 'application/xml' });
    const body = String(created.body);
    const element = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
    expect(/^(<\?xml[^>]*>)?\s*<PostResponse>/.test(body)).toBe(true);
    expect([element('Location'), element('Bucket'), element('Key'), element('ETag')]).toEqual([
      LOCATION,
      'b',
      'a b/c.txt',
      '&quot;abc&quot;',
    ]);
  });

  it('success_action_redirect (or redirect): 303 to it with bucket, key and ETag added', () => {
    for (const name of ['success_action_redirect', 'redirect']) {
      const answer = formAnswer(
        fields({ [name]: 'https://app.example/done?x=1', success_action_status: '201' }),
        put,
        path,
      );
      expect(answer.status, name).toBe(303);
      expect(answer.body).toBeUndefined();
      const { location, ...rest } = answer.headers;
      expect(rest).toEqual(put.headers);
      const u = new URL(String(location));
      expect([u.origin + u.pathname, [...u.searchParams]]).toEqual([
        'https://app.example/done',
        [
          ['x', '1'],
          ['bucket', 'b'],
          ['key', 'a b/c.txt'],
          ['etag', '"abc"'],
        ],
      ]);
    }
    // success_action_redirect wins over redirect.
    const both = fields({ success_action_redirect: 'https://one.example/', redirect: 'https://two.example/' });
    expect(String(formAnswer(both, put, path).headers.location).startsWith('https://one.example/')).toBe(true);
  });

  it('a redirect that is no URL falls back to the status answer', () => {
    expect(formAnswer(fields({ success_action_redirect: 'not a url' }), put, path).status).toBe(204);
    expect(formAnswer(fields({ redirect: '/relative', success_action_status: '200' }), put, path).status).toBe(200);
    expect(formAnswer(fields({ success_action_redirect: '' }), put, path).status).toBe(204);
  });
});
