// SigV4's rules one by one, signed by the independent hand signer (test/helpers/sigv4.ts, written from AWS's
// "Signature Version 4" and "Authenticating Requests: Using Query Parameters" pages): the Authorization
// header's fields, the credential scope, the request time and clock skew, the payload hash forms, presigned
// parameters and expiry, and the canonical request's pieces. AWS's own examples: auth-v4.test.ts.
import { describe, expect, it } from 'vitest';
import { type V4Request, authorization, presignV4, queryString, signV4 } from '../../../test/helpers/sigv4.js';
import { S3Error } from '../../src/errors.js';
import { canonicalQuery, canonicalUri, queryPairs, uriEncode } from '../../src/http/auth/canonical.js';
import { credentialStore } from '../../src/http/auth/credentials.js';
import { type SigV4Context, verifyHeaderV4, verifyPresignedV4 } from '../../src/http/auth/sigv4.js';
import { thrownCode } from '../thrown-code.js';

const USER = { accessKey: 'AKIDRULES', secretKey: 'rules-secret-key' };
const SLASHED = { accessKey: 'team/alice', secretKey: 'alice-secret-key' };
const TIME = new Date('2030-03-04T12:00:00Z');
const ctx = (now = TIME.getTime()): SigV4Context => ({
  credentials: credentialStore({ root: USER, users: [SLASHED] }),
  region: 'us-east-1',
  now: () => now,
  keyCache: new Map(),
});
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

type Opts = Partial<V4Request> & { extraHeaders?: Record<string, string> };

/** A header-signed GET (host, x-amz-date, x-amz-content-sha256 signed), its request and Authorization. */
function signed(o: Opts = {}) {
  const time = o.time ?? TIME;
  const payloadHash = o.payloadHash ?? EMPTY;
  const headers: Record<string, string> = {
    host: 'cairn.test',
    'x-amz-date': time
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, ''),
    'x-amz-content-sha256': payloadHash,
    ...o.headers,
  };
  const r = { method: 'GET', path: '/b/k', credentials: USER, ...o, time, payloadHash, headers };
  const s = signV4(r);
  const req = {
    method: r.method,
    rawPath: r.path,
    rawQuery: queryString(r.query ?? []),
    headers: { ...headers, ...o.extraHeaders },
  };
  return { req, s, auth: authorization(s) };
}

const headerCode = (o: Opts = {}, edit: (auth: string) => string = (a) => a, at = ctx()) => {
  const { req, auth } = signed(o);
  return thrownCode(() => verifyHeaderV4(at, req, edit(auth))) ?? 'ok';
};

describe('SigV4 Authorization header', () => {
  it('fields in any order, with or without spaces; all three required', () => {
    const { req, s } = signed();
    const fields = [`Credential=${s.credential}`, `SignedHeaders=${s.signedHeaders}`, `Signature=${s.signature}`];
    for (const order of [fields, [...fields].reverse(), [fields[1], fields[2], fields[0]]]) {
      for (const sep of [',', ', ', ' , ']) {
        const auth = `AWS4-HMAC-SHA256 ${order.join(sep)}`;
        expect(verifyHeaderV4(ctx(), req, auth).identity.accessKey, auth).toBe(USER.accessKey);
      }
    }
    for (let i = 0; i < 3; i++) {
      const auth = `AWS4-HMAC-SHA256 ${fields.filter((_, j) => j !== i).join(', ')}`;
      expect(thrownCode(() => verifyHeaderV4(ctx(), req, auth))).toBe('AuthorizationHeaderMalformed');
      const empty = `AWS4-HMAC-SHA256 ${fields.map((f, j) => (j === i ? f.slice(0, f.indexOf('=') + 1) : f)).join(',')}`;
      expect(thrownCode(() => verifyHeaderV4(ctx(), req, empty))).toBe('AuthorizationHeaderMalformed');
    }
    // A piece without a name is no field.
    const noName = `AWS4-HMAC-SHA256 =x, ${fields.join(', ')}`;
    expect(verifyHeaderV4(ctx(), req, noName).identity.accessKey).toBe(USER.accessKey);
  });

  it('the credential scope: key/date/region/s3/aws4_request, the key itself may hold slashes', () => {
    expect(headerCode({ credentials: SLASHED })).toBe('ok');
    const scope = (f: (parts: string[]) => string[]) => (auth: string) =>
      auth.replace(/Credential=([^,]+)/, (_, c: string) => `Credential=${f(c.split('/')).join('/')}`);
    expect(
      headerCode(
        {},
        scope((p) => p.slice(1)),
      ),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      headerCode(
        {},
        scope((p) => [...p.slice(0, 4), 'aws4_reques']),
      ),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      headerCode(
        {},
        scope((p) => [p[0], '2030034', ...p.slice(2)]),
      ),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      headerCode(
        {},
        scope((p) => [p[0], '2030030a', ...p.slice(2)]),
      ),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      headerCode(
        {},
        scope((p) => [p[0], '020300304', ...p.slice(2)]),
      ),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      headerCode(
        {},
        scope((p) => [p[0], p[1], p[2], 'ec2', p[4]]),
      ),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      headerCode(
        {},
        scope((p) => [p[0], p[1], 'eu-west-1', p[3], p[4]]),
      ),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      headerCode(
        {},
        scope((p) => ['NOSUCHKEY', ...p.slice(1)]),
      ),
    ).toBe('InvalidAccessKeyId');
  });

  it('the request time: x-amz-date, else Date; neither is AccessDenied', () => {
    const headers = { host: 'cairn.test', date: TIME.toUTCString(), 'x-amz-content-sha256': EMPTY };
    const r = { method: 'GET', path: '/b/k', credentials: USER, time: TIME, payloadHash: EMPTY, headers };
    const auth = authorization(signV4(r));
    const req = { method: 'GET', rawPath: '/b/k', rawQuery: '', headers };
    expect(verifyHeaderV4(ctx(), req, auth).identity.accessKey).toBe(USER.accessKey);
    // A malformed x-amz-date leaves the Date header in charge.
    const oddHeaders = { ...headers, 'x-amz-date': 'yesterday' };
    const oddAuth = authorization(signV4({ ...r, headers: oddHeaders }));
    expect(verifyHeaderV4(ctx(), { ...req, headers: oddHeaders }, oddAuth).identity.accessKey).toBe(USER.accessKey);
    const { date: _, ...noDate } = headers;
    expect(thrownCode(() => verifyHeaderV4(ctx(), { ...req, headers: noDate }, auth))).toBe('AccessDenied');
    expect(thrownCode(() => verifyHeaderV4(ctx(TIME.getTime() + 16 * 60_000), req, auth))).toBe('RequestTimeTooSkewed');
  });

  it('the clock may be 15 minutes off either way; the scope must name the request day', () => {
    const min = 60_000;
    for (const off of [-15 * min, 15 * min]) expect(headerCode({}, undefined, ctx(TIME.getTime() + off))).toBe('ok');
    for (const off of [-15 * min - 1000, 15 * min + 1000])
      expect(headerCode({}, undefined, ctx(TIME.getTime() + off))).toBe('RequestTimeTooSkewed');
    expect(headerCode({ scopeDate: '20300303' })).toBe('AuthorizationHeaderMalformed');
    // Just before midnight UTC: the scope is that day, not the next.
    const late = new Date('2030-03-04T23:59:59Z');
    expect(headerCode({ time: late }, undefined, ctx(late.getTime()))).toBe('ok');
    expect(headerCode({ time: late, scopeDate: '20300305' }, undefined, ctx(late.getTime()))).toBe(
      'AuthorizationHeaderMalformed',
    );
  });

  it('x-amz-content-sha256: a hex SHA-256, UNSIGNED-PAYLOAD or one of the STREAMING forms', () => {
    const hex = 'ab'.repeat(32);
    const payload = (h: string) => {
      const { req, auth } = signed({ payloadHash: h });
      return verifyHeaderV4(ctx(), req, auth).payload;
    };
    expect(payload(hex)).toEqual({ kind: 'sha256', expected: hex });
    expect(payload('UNSIGNED-PAYLOAD')).toEqual({ kind: 'unsigned' });
    expect(payload('STREAMING-UNSIGNED-PAYLOAD-TRAILER')).toEqual({ kind: 'streaming', signed: false, trailer: true });
    const { req, auth, s } = signed({ payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' });
    expect(verifyHeaderV4(ctx(), req, auth).payload).toEqual({
      kind: 'streaming',
      signed: true,
      trailer: false,
      chain: { signingKey: s.key, amzDate: req.headers['x-amz-date'], scope: s.scope, seedSignature: s.signature },
    });
    expect(payload('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER')).toMatchObject({ signed: true, trailer: true });
    const failing = (h: string) => thrownCode(() => payload(h));
    expect(failing('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD')).toBe('NotImplemented');
    for (const bad of ['AB'.repeat(32), 'ab'.repeat(31), `${'ab'.repeat(32)}0`, `x${'ab'.repeat(32)}`, 'unsigned']) {
      expect(failing(bad), bad).toBe('InvalidArgument');
    }
    // Without the header the payload is the empty body's hash.
    const none = signed({ payloadHash: EMPTY });
    const { 'x-amz-content-sha256': _, ...headers } = none.req.headers;
    const s2 = signV4({ method: 'GET', path: '/b/k', credentials: USER, time: TIME, payloadHash: EMPTY, headers });
    expect(verifyHeaderV4(ctx(), { ...none.req, headers }, authorization(s2)).payload).toEqual({
      kind: 'sha256',
      expected: EMPTY,
    });
  });

  it('keeps at most about a thousand derived signing keys', () => {
    const shared = ctx();
    for (let day = 0; day < 1100; day++) {
      const time = new Date(TIME.getTime() + day * 86_400_000);
      const { req, auth } = signed({ time });
      verifyHeaderV4({ ...shared, now: () => time.getTime() }, req, auth);
    }
    expect(shared.keyCache.size).toBeGreaterThan(0);
    expect(shared.keyCache.size).toBeLessThanOrEqual(1001);
  });
});

describe('SigV4 presigned URLs', () => {
  const presigned = (expires = 60, o: Partial<V4Request> = {}, edit = (q: [string, string][]) => q) => {
    const q = edit(
      presignV4(
        { method: 'GET', path: '/b/k', headers: { host: 'cairn.test' }, time: TIME, credentials: USER, ...o },
        expires,
      ),
    );
    return { method: 'GET', rawPath: '/b/k', rawQuery: queryString(q), headers: { host: 'cairn.test' } };
  };
  const failure = (req: ReturnType<typeof presigned>, now = TIME.getTime()) => {
    try {
      verifyPresignedV4(ctx(now), req);
      return 'ok';
    } catch (e) {
      return e instanceof S3Error ? `${e.code} ${e.status}` : String(e);
    }
  };
  const without = (name: string) => (q: [string, string][]) => q.filter(([k]) => k !== name);
  const replace = (name: string, value: string) => (q: [string, string][]) =>
    q.map(([k, v]): [string, string] => [k, k === name ? value : v]);

  it('every X-Amz-* parameter is required, the algorithm is AWS4-HMAC-SHA256', () => {
    expect(failure(presigned())).toBe('ok');
    for (const p of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Expires']) {
      expect(failure(presigned(60, {}, without(p))), p).toBe('AuthorizationQueryParametersError 400');
      expect(failure(presigned(60, {}, replace(p, ''))), p).toBe('AuthorizationQueryParametersError 400');
    }
    expect(failure(presigned(60, {}, without('X-Amz-Algorithm')))).toBe('AuthorizationQueryParametersError 400');
    expect(failure(presigned(60, {}, replace('X-Amz-Algorithm', 'AWS4-HMAC-SHA1')))).toBe(
      'AuthorizationQueryParametersError 400',
    );
    expect(failure(presigned(60, {}, replace('X-Amz-Date', '2030-03-04T12:00:00Z')))).toBe(
      'AuthorizationQueryParametersError 400',
    );
  });

  it('X-Amz-Expires: whole seconds, 0 to 604800 (a week); out of range is 403', () => {
    expect(failure(presigned(604800))).toBe('ok');
    expect(failure(presigned(0))).toBe('ok');
    expect(failure(presigned(604801))).toBe('AuthorizationQueryParametersError 403');
    expect(failure(presigned(-1))).toBe('AuthorizationQueryParametersError 403');
    for (const bad of ['1.5', 'sixty', '60s', '']) {
      expect(failure(presigned(60, {}, replace('X-Amz-Expires', bad))), bad).toBe(
        'AuthorizationQueryParametersError 400',
      );
    }
  });

  it('valid from X-Amz-Date (15 minutes of skew) through X-Amz-Date + X-Amz-Expires, both ends included', () => {
    const t = TIME.getTime();
    expect(failure(presigned(60), t + 60_000)).toBe('ok');
    expect(failure(presigned(60), t + 60_001)).toBe('AccessDenied 403');
    expect(failure(presigned(60), t - 15 * 60_000)).toBe('ok');
    expect(failure(presigned(60), t - 15 * 60_000 - 1)).toBe('AccessDenied 403');
  });

  it('the credential scope names the day of X-Amz-Date and this region', () => {
    expect(failure(presigned(60, { scopeDate: '20300305' }))).toBe('AuthorizationQueryParametersError 400');
    expect(failure(presigned(60, { region: 'eu-west-1' }))).toBe('AuthorizationQueryParametersError 400');
    expect(failure(presigned(60, { credentials: { accessKey: 'NOPE', secretKey: 'x' } }))).toBe(
      'InvalidAccessKeyId 403',
    );
    expect(failure(presigned(60, { credentials: SLASHED }))).toBe('ok');
  });

  it('the payload: UNSIGNED-PAYLOAD unless the URL names a hash; a streaming hash reads as unsigned', () => {
    expect(verifyPresignedV4(ctx(), presigned()).payload).toEqual({ kind: 'unsigned' });
  });
});

describe('canonical request pieces', () => {
  it("URI encoding: unreserved kept, everything else %XX in upper case, including !'()*", () => {
    expect(uriEncode("aZ09-_.~!'()* /+=é")).toBe('aZ09-_.~%21%27%28%29%2A%20%2F%2B%3D%C3%A9');
    expect(uriEncode('a/b c', true)).toBe('a/b%20c');
  });

  it('the canonical URI decodes once and encodes once; an empty path is /', () => {
    expect(canonicalUri('/b/a%20b/%E2%9C%93+(1).txt')).toBe('/b/a%20b/%E2%9C%93%2B%281%29.txt');
    expect(canonicalUri('/b/100%')).toBe('/b/100%25');
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/')).toBe('/');
  });

  it('query pairs: + is a space, a bad escape is kept as sent, empty pieces dropped', () => {
    expect(queryPairs('a=1+2&b&&c=%zz&d=x%3Dy=z')).toEqual([
      ['a', '1 2'],
      ['b', ''],
      ['c', '%zz'],
      ['d', 'x=y=z'],
    ]);
    expect(queryPairs('')).toEqual([]);
  });

  it('the canonical query sorts by name, then value, after encoding, and leaves out the one skipped', () => {
    const pairs: [string, string][] = [
      ['b', '2'],
      ['a', 'z'],
      ['a', 'y'],
      ['A', '1'],
      ['sig', 's'],
      ['c d', 'e/f'],
    ];
    expect(canonicalQuery(pairs, 'sig')).toBe('A=1&a=y&a=z&b=2&c%20d=e%2Ff');
    expect(canonicalQuery(pairs)).toBe('A=1&a=y&a=z&b=2&c%20d=e%2Ff&sig=s');
  });
});
