// SigV2 against AWS's published example (bucket johnsmith, "Object GET") and presigned expiry.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../thrown-code.js';
import { credentialStore } from '../../src/http/auth/credentials.js';
import { verifyHeaderV2, verifyPresignedV2 } from '../../src/http/auth/sigv2.js';
import { authenticate } from '../../src/http/authenticate.js';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
const ctx = {
  credentials: credentialStore({ root: { accessKey: AK, secretKey: SK } }),
  now: () => Date.parse(date) + 60_000,
};

const code = thrownCode;

describe('SigV2', () => {
  const req = {
    method: 'GET',
    rawPath: '/photos/puppy.jpg',
    rawQuery: '',
    headers: { host: 'johnsmith.s3.amazonaws.com', date },
  };
  it('verifies the AWS example (virtual-host bucket)', () => {
    expect(verifyHeaderV2(ctx, req, `AWS ${AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`, 'johnsmith').accessKey).toBe(AK);
    expect(
      verifyHeaderV2(ctx, { ...req, rawPath: '/johnsmith/photos/puppy.jpg' }, `AWS ${AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`)
        .accessKey,
    ).toBe(AK);
  });
  it('rejects a wrong signature, an unknown key and a skewed clock', () => {
    expect(code(() => verifyHeaderV2(ctx, req, `AWS ${AK}:cWq2s1WEIj+Ydj0vQ697zp+IXMU=`, 'johnsmith'))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(code(() => verifyHeaderV2(ctx, req, `AWS NOPE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`, 'johnsmith'))).toBe(
      'InvalidAccessKeyId',
    );
    expect(
      code(() =>
        verifyHeaderV2(
          { ...ctx, now: () => Date.parse(date) + 3600_000 },
          req,
          `AWS ${AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`,
          'johnsmith',
        ),
      ),
    ).toBe('RequestTimeTooSkewed');
  });
  it('presigned: sub-resources are signed, expiry enforced', () => {
    const expires = String(Math.floor(ctx.now() / 1000) + 60);
    const sig = createHmac('sha1', SK).update(`GET\n\n\n${expires}\n/b/k%20x?versionId=v1`).digest('base64');
    const rawQuery = `versionId=v1&AWSAccessKeyId=${AK}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    const preq = { method: 'GET', rawPath: '/b/k%20x', rawQuery, headers: { host: 'h' } };
    expect(verifyPresignedV2(ctx, preq).accessKey).toBe(AK);
    expect(code(() => verifyPresignedV2({ ...ctx, now: () => ctx.now() + 120_000 }, preq))).toBe('AccessDenied');
    expect(code(() => verifyPresignedV2(ctx, { ...preq, rawQuery: rawQuery.replace('v1', 'v2') }))).toBe(
      'SignatureDoesNotMatch',
    );
  });
  it("refuses Cairn's x-cairn-* switches, which SigV2 leaves unsigned", () => {
    const expires = String(Math.floor(ctx.now() / 1000) + 60);
    const sig = createHmac('sha1', SK).update(`POST\n\n\n${expires}\n/b/k?select&select-type=2`).digest('base64');
    const signed = `select&select-type=2&AWSAccessKeyId=${AK}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    const send = (rawQuery: string, authorization?: string) =>
      authenticate(
        { ...ctx, region: 'us-east-1', keyCache: new Map() },
        {
          method: 'POST',
          rawPath: '/b/k',
          rawQuery,
          query: new URLSearchParams(rawQuery),
          headers: authorization ? { host: 'h', date, authorization } : { host: 'h' },
        },
      );
    expect(send(signed).identity?.accessKey).toBe(AK);
    expect(code(() => send(`${signed}&x-cairn-dialect=cairn`))).toBe('InvalidArgument');
    expect(code(() => send(`${signed}&X-Cairn-Output=arrow`))).toBe('InvalidArgument');
    // The header form too: the switch is refused even though the signature over the rest verifies.
    const headerSig = createHmac('sha1', SK).update(`POST\n\n\n${date}\n/b/k?select&select-type=2`).digest('base64');
    const header = `AWS ${AK}:${headerSig}`;
    expect(send('select&select-type=2', header).identity?.accessKey).toBe(AK);
    expect(code(() => send('select&select-type=2&x-cairn-dialect=cairn', header))).toBe('InvalidArgument');
  });

  it("refuses MinIO's x-minio-* headers (a replication request's), which SigV2 cannot sign", () => {
    const good = `AWS ${AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`;
    const withHeader = { ...req, headers: { ...req.headers, 'x-minio-source-replication-request': 'true' } };
    expect(verifyHeaderV2(ctx, req, good, 'johnsmith').accessKey).toBe(AK);
    expect(code(() => verifyHeaderV2(ctx, withHeader, good, 'johnsmith'))).toBe('AccessDenied');
    const expires = String(Math.floor(ctx.now() / 1000) + 60);
    const sig = createHmac('sha1', SK).update(`GET\n\n\n${expires}\n/johnsmith/photos/puppy.jpg`).digest('base64');
    const q = new URLSearchParams({ AWSAccessKeyId: AK, Expires: expires, Signature: sig });
    const presigned = { ...req, rawPath: '/johnsmith/photos/puppy.jpg', rawQuery: q.toString() };
    expect(verifyPresignedV2(ctx, presigned).accessKey).toBe(AK);
    const injected = {
      ...presigned,
      headers: { ...presigned.headers, 'x-minio-source-mtime': '2020-01-01T00:00:00Z' },
    };
    expect(code(() => verifyPresignedV2(ctx, injected))).toBe('AccessDenied');
  });

  it('covers every x-amz-* header, Content-MD5 and Content-Type: one added after signing fails', () => {
    // PUT with a canned ACL, signed as a SigV2 client signs it (x-amz-* headers sorted into the string to sign).
    const expires = String(Math.floor(ctx.now() / 1000) + 60);
    const sts = `PUT\n\ntext/plain\n${expires}\nx-amz-acl:private\n/b/k`;
    const sig = createHmac('sha1', SK).update(sts).digest('base64');
    const rawQuery = `AWSAccessKeyId=${AK}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    const preq = {
      method: 'PUT',
      rawPath: '/b/k',
      rawQuery,
      headers: { host: 'h', 'content-type': 'text/plain', 'x-amz-acl': 'private' },
    };
    expect(verifyPresignedV2(ctx, preq).accessKey).toBe(AK);
    for (const extra of [
      { 'x-amz-copy-source': '/b/secret' },
      { 'x-amz-acl': 'public-read' },
      { 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' },
      { 'x-amz-meta-a': '1' },
      { 'x-amz-tagging': 'a=1' },
      { 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==' },
      { 'content-type': 'text/html' },
    ]) {
      expect(
        code(() => verifyPresignedV2(ctx, { ...preq, headers: { ...preq.headers, ...extra } })),
        JSON.stringify(extra),
      ).toBe('SignatureDoesNotMatch');
    }
    const header = {
      method: 'GET',
      rawPath: '/photos/puppy.jpg',
      rawQuery: '',
      headers: { host: 'johnsmith.s3.amazonaws.com', date, 'x-amz-meta-x': '1' },
    };
    expect(code(() => verifyHeaderV2(ctx, header, `AWS ${AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`, 'johnsmith'))).toBe(
      'SignatureDoesNotMatch',
    );
  });
});

// The string to sign piece by piece (AWS: "Signing and authenticating REST requests", the v2 reference): each
// case signs the string a SigV2 client builds and checks the server builds the same one, no more and no less.
describe('SigV2 string to sign', () => {
  const expires = String(Math.floor(ctx.now() / 1000) + 60);
  const presigned = (sts: string, req: { method?: string; rawPath: string; rawQuery?: string; headers?: object }) => {
    const sig = encodeURIComponent(createHmac('sha1', SK).update(sts).digest('base64'));
    const auth = `AWSAccessKeyId=${AK}&Expires=${expires}&Signature=${sig}`;
    return {
      method: req.method ?? 'GET',
      rawPath: req.rawPath,
      rawQuery: req.rawQuery ? `${req.rawQuery}&${auth}` : auth,
      headers: { host: 'h', ...req.headers } as Record<string, string>,
    };
  };
  const verifies = (req: ReturnType<typeof presigned>, bucket?: string) =>
    code(() => verifyPresignedV2(ctx, req, bucket)) ?? 'ok';

  it('x-amz-* headers sorted by name, values trimmed; other headers left out', () => {
    const headers = { 'x-amz-meta-b': '  2 ', 'x-amz-acl': 'private', 'x-custom': 'not signed' };
    const sts = `PUT\n\n\n${expires}\nx-amz-acl:private\nx-amz-meta-b:2\n/b/k`;
    expect(verifies(presigned(sts, { method: 'PUT', rawPath: '/b/k', headers }))).toBe('ok');
    // The same headers in the sent order, or with the untrimmed value, are another string.
    const unsorted = `PUT\n\n\n${expires}\nx-amz-meta-b:2\nx-amz-acl:private\n/b/k`;
    expect(verifies(presigned(unsorted, { method: 'PUT', rawPath: '/b/k', headers }))).toBe('SignatureDoesNotMatch');
    const untrimmed = `PUT\n\n\n${expires}\nx-amz-acl:private\nx-amz-meta-b:  2 \n/b/k`;
    expect(verifies(presigned(untrimmed, { method: 'PUT', rawPath: '/b/k', headers }))).toBe('SignatureDoesNotMatch');
  });

  it('sub-resources sorted, bare when valueless; other query parameters left out', () => {
    const rawQuery = 'versionId=v1&foo=bar&acl&partNumber=2';
    const sts = `GET\n\n\n${expires}\n/b/k?acl&partNumber=2&versionId=v1`;
    expect(verifies(presigned(sts, { rawPath: '/b/k', rawQuery }))).toBe('ok');
    for (const wrong of [
      `/b/k?versionId=v1&acl&partNumber=2`, // sent order
      `/b/k?acl=&partNumber=2&versionId=v1`, // acl with '='
      `/b/k?acl&foo=bar&partNumber=2&versionId=v1`, // a parameter that is no sub-resource
      `/b/k`, // sub-resources left out: a presigned GET of one version would be good for every version
    ]) {
      expect(verifies(presigned(`GET\n\n\n${expires}\n${wrong}`, { rawPath: '/b/k', rawQuery })), wrong).toBe(
        'SignatureDoesNotMatch',
      );
    }
  });

  it('a bucket-level resource may be signed with or without its trailing slash; an object may not', () => {
    expect(verifies(presigned(`GET\n\n\n${expires}\n/b?acl`, { rawPath: '/b', rawQuery: 'acl' }))).toBe('ok');
    expect(verifies(presigned(`GET\n\n\n${expires}\n/b/?acl`, { rawPath: '/b', rawQuery: 'acl' }))).toBe('ok');
    const long = (sts: string) => presigned(`GET\n\n\n${expires}\n${sts}`, { rawPath: '/bucket', rawQuery: 'acl' });
    expect(verifies(long('/bucket?acl'))).toBe('ok');
    expect(verifies(long('/bucket/?acl'))).toBe('ok');
    expect(verifies(presigned(`GET\n\n\n${expires}\n/b//?acl`, { rawPath: '/b', rawQuery: 'acl' }))).toBe(
      'SignatureDoesNotMatch',
    );
    // Virtual-host style: the bucket comes from the host, the path is the key.
    expect(verifies(presigned(`GET\n\n\n${expires}\n/b/`, { rawPath: '/' }), 'b')).toBe('ok');
    expect(verifies(presigned(`GET\n\n\n${expires}\n/b/k/`, { rawPath: '/b/k' }))).toBe('SignatureDoesNotMatch');
    expect(verifies(presigned(`GET\n\n\n${expires}\n/b/k/`, { rawPath: '/k' }), 'b')).toBe('SignatureDoesNotMatch');
    expect(verifies(presigned(`GET\n\n\n${expires}\n/b/k`, { rawPath: '/k' }), 'b')).toBe('ok');
  });

  it('every sub-resource of the v2 reference is signed, each alone', () => {
    // AWS's list of sub-resources that go into the CanonicalizedResource (the v2 reference), with the ones
    // Cairn serves since (select, object-lock, retention, legal-hold, policyStatus, attributes).
    const SUBRESOURCES = [
      'acl',
      'cors',
      'delete',
      'encryption',
      'lifecycle',
      'location',
      'logging',
      'notification',
      'partNumber',
      'policy',
      'requestPayment',
      'response-cache-control',
      'response-content-disposition',
      'response-content-encoding',
      'response-content-language',
      'response-content-type',
      'response-expires',
      'tagging',
      'torrent',
      'uploadId',
      'uploads',
      'versionId',
      'versioning',
      'versions',
      'website',
      'select',
      'select-type',
      'restore',
      'object-lock',
      'retention',
      'legal-hold',
      'policyStatus',
      'attributes',
    ];
    for (const sub of SUBRESOURCES) {
      const req = presigned(`GET\n\n\n${expires}\n/b/k?${sub}=1`, { rawPath: '/b/k', rawQuery: `${sub}=1` });
      expect(verifies(req), sub).toBe('ok');
      const unsigned = presigned(`GET\n\n\n${expires}\n/b/k`, { rawPath: '/b/k', rawQuery: `${sub}=1` });
      expect(verifies(unsigned), sub).toBe('SignatureDoesNotMatch');
    }
  });

  it('a sub-resource sent twice is signed in the order sent (a stable sort by name, as botocore signs it)', () => {
    const rawQuery = 'versionId=b&acl&versionId=a';
    const sts = `GET\n\n\n${expires}\n/b/k?acl&versionId=b&versionId=a`;
    expect(verifies(presigned(sts, { rawPath: '/b/k', rawQuery }))).toBe('ok');
    const resorted = `GET\n\n\n${expires}\n/b/k?acl&versionId=a&versionId=b`;
    expect(verifies(presigned(resorted, { rawPath: '/b/k', rawQuery }))).toBe('SignatureDoesNotMatch');
  });

  it('the signature names the bucket: a URL signed for one bucket fails for another', () => {
    const req = presigned(`GET\n\n\n${expires}\n/b`, { rawPath: '/b' });
    expect(verifies(req)).toBe('ok');
    expect(verifies({ ...req, rawPath: '/c' })).toBe('SignatureDoesNotMatch');
  });

  it('x-amz-date takes the place of Date: the Date line is then empty, and the clock is checked on x-amz-date', () => {
    const amzDate = 'Tue, 27 Mar 2007 19:36:42 +0000';
    const sign = (sts: string) => `AWS ${AK}:${createHmac('sha1', SK).update(sts).digest('base64')}`;
    const req = { method: 'GET', rawPath: '/b/k', rawQuery: '', headers: { host: 'h', 'x-amz-date': amzDate } };
    expect(verifyHeaderV2(ctx, req, sign(`GET\n\n\n\nx-amz-date:${amzDate}\n/b/k`)).accessKey).toBe(AK);
    expect(code(() => verifyHeaderV2(ctx, req, sign(`GET\n\n\n${amzDate}\nx-amz-date:${amzDate}\n/b/k`)))).toBe(
      'SignatureDoesNotMatch',
    );
    // A stale Date beside a current x-amz-date is not a skewed clock; a stale x-amz-date is.
    const both = { ...req, headers: { ...req.headers, date: 'Tue, 27 Mar 2001 19:36:42 +0000' } };
    expect(verifyHeaderV2(ctx, both, sign(`GET\n\n\n\nx-amz-date:${amzDate}\n/b/k`)).accessKey).toBe(AK);
    const stale = { ...req, headers: { host: 'h', 'x-amz-date': 'Tue, 27 Mar 2001 19:36:42 +0000', date } };
    expect(code(() => verifyHeaderV2(ctx, stale, sign('x')))).toBe('RequestTimeTooSkewed');
  });

  it('Content-MD5 and Content-Type have their own lines', () => {
    const headers = { 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==', 'content-type': 'text/plain' };
    const sts = `PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\n${expires}\n/b/k`;
    expect(verifies(presigned(sts, { method: 'PUT', rawPath: '/b/k', headers }))).toBe('ok');
    const swapped = `PUT\ntext/plain\n1B2M2Y8AsgTpgAmY7PhCfg==\n${expires}\n/b/k`;
    expect(verifies(presigned(swapped, { method: 'PUT', rawPath: '/b/k', headers }))).toBe('SignatureDoesNotMatch');
  });

  it('SignatureDoesNotMatch carries the string the server signed (AWS returns StringToSign)', () => {
    const req = presigned('not the string', { rawPath: '/b/k' });
    try {
      verifyPresignedV2(ctx, req);
      expect.unreachable();
    } catch (e) {
      expect((e as { extra: Record<string, string> }).extra.StringToSign).toBe(`GET\n\n\n${expires}\n/b/k`);
    }
  });
});

describe('SigV2 credentials and clock', () => {
  const header = (auth: string, d = date) =>
    code(() =>
      verifyHeaderV2(ctx, { method: 'GET', rawPath: '/', rawQuery: '', headers: { host: 'h', date: d } }, auth),
    );
  const good = `AWS ${AK}:${createHmac('sha1', SK).update(`GET\n\n\n${date}\n/`).digest('base64')}`;

  it('the Authorization header must be exactly `AWS key:signature`', () => {
    expect(header(good)).toBeUndefined();
    expect(header(`  ${good} `)).toBeUndefined(); // surrounding whitespace is no part of it
    expect(header(`${good}\nx`)).toBe('AccessDenied'); // nothing after the signature, not even on another line
    expect(header(`X${good}`)).toBe('AccessDenied');
    expect(header(`AWS ${AK}`)).toBe('AccessDenied');
    expect(header(`AWS :sig`)).toBe('AccessDenied');
    expect(header(`AWS ${AK}:`)).toBe('AccessDenied');
  });

  it('a request without a usable date is refused before its signature is checked', () => {
    expect(header(good, 'not a date')).toBe('AccessDenied');
    const none = { method: 'GET', rawPath: '/', rawQuery: '', headers: { host: 'h' } };
    expect(code(() => verifyHeaderV2(ctx, none, good))).toBe('AccessDenied');
  });

  it('the clock may be 15 minutes off either way, not more', () => {
    const at = (offsetMs: number) => ({ ...ctx, now: () => Date.parse(date) + offsetMs });
    const req = { method: 'GET', rawPath: '/', rawQuery: '', headers: { host: 'h', date } };
    for (const ms of [15 * 60_000, -15 * 60_000]) expect(code(() => verifyHeaderV2(at(ms), req, good))).toBeUndefined();
    for (const ms of [15 * 60_000 + 1000, -15 * 60_000 - 1000])
      expect(code(() => verifyHeaderV2(at(ms), req, good))).toBe('RequestTimeTooSkewed');
  });

  it('presigned: every parameter required, Expires a number of seconds, valid up to and including Expires', () => {
    const exp = Math.floor(ctx.now() / 1000) + 60;
    const sig = encodeURIComponent(createHmac('sha1', SK).update(`GET\n\n\n${exp}\n/b/k`).digest('base64'));
    const q = { AWSAccessKeyId: AK, Expires: String(exp), Signature: sig };
    const run = (query: Record<string, string>, now = ctx.now()) =>
      code(() =>
        verifyPresignedV2(
          { ...ctx, now: () => now },
          {
            method: 'GET',
            rawPath: '/b/k',
            rawQuery: Object.entries(query)
              .map(([k, v]) => `${k}=${v}`)
              .join('&'),
            headers: { host: 'h' },
          },
        ),
      );
    expect(run(q)).toBeUndefined();
    for (const k of Object.keys(q)) {
      const { [k as keyof typeof q]: _, ...rest } = q;
      expect(run(rest), k).toBe('AccessDenied');
    }
    expect(run({ ...q, Expires: `${exp}.5` })).toBe('AccessDenied');
    expect(run({ ...q, Expires: `-${exp}` })).toBe('AccessDenied');
    expect(run({ ...q, AWSAccessKeyId: 'NOPE' })).toBe('InvalidAccessKeyId');
    // The error names the key it did not find, as AWS does.
    try {
      verifyHeaderV2(ctx, { method: 'GET', rawPath: '/', rawQuery: '', headers: { host: 'h', date } }, 'AWS NOPE:x');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'InvalidAccessKeyId', extra: { AWSAccessKeyId: 'NOPE' } });
    }
    expect(run(q, exp * 1000)).toBeUndefined();
    expect(run(q, exp * 1000 + 1)).toBe('AccessDenied');
  });
});
