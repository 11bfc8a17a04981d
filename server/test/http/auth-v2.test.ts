// SigV2 against AWS's published example (bucket johnsmith, "Object GET") and presigned expiry.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../thrown-code.js';
import { credentialStore } from '../../src/http/auth/credentials.js';
import { verifyHeaderV2, verifyPresignedV2 } from '../../src/http/auth/sigv2.js';

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
