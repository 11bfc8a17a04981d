// Reading a JSON document from an identity provider (OpenID discovery document, JWKS) within bounds: the
// provider, or whoever answers at its address, must not be able to make Cairn buffer an endless answer,
// wait for ever, or fetch from another host by redirecting it there.
//
// Over HTTPS the provider's certificate must be trusted: by Node's CAs, or, for an IAM OIDC provider that
// registered thumbprints (its ThumbprintList), by the certificate at the top of the chain the server presents
// (AWS's rule: the SHA-1 thumbprint of the top intermediate or root CA certificate) when that one's thumbprint
// is registered: a private CA. The chain is first read without verifying it (only to find that certificate);
// the document is then fetched over a new connection that OpenSSL verifies with that certificate as its only
// trust anchor (signatures, dates, host name). No registered thumbprint matching is InvalidIdentityToken.
import { request } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { S3Error } from '../../errors.js';

/** Largest discovery document or JWKS read from a provider (real ones are a few KiB). */
export const MAX_PROVIDER_DOCUMENT_BYTES = 1024 * 1024;
/** A provider's answer, body included, must arrive within this. */
export const PROVIDER_FETCH_TIMEOUT_MS = 5_000;
/** Redirects followed, and only within the same origin (scheme, host and port). */
const MAX_REDIRECTS = 3;

/**
 * GET `url` and parse its body as JSON. Throws an Error saying why on: a status other than 200, a redirect to
 * another origin (or more than MAX_REDIRECTS), a body larger than `maxBytes`, no full answer within
 * `timeoutMs`, or a body that is not JSON.
 */
export async function fetchProviderJson(
  url: URL,
  opts: {
    maxBytes?: number;
    timeoutMs?: number;
    headers?: Record<string, string>;
    /** An IAM OIDC provider's ThumbprintList (lower-case hex): a private CA it names is trusted over HTTPS. */
    thumbprints?: readonly string[];
  } = {},
): Promise<unknown> {
  const maxBytes = opts.maxBytes ?? MAX_PROVIDER_DOCUMENT_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? PROVIDER_FETCH_TIMEOUT_MS);
  const pinned =
    url.protocol === 'https:' && opts.thumbprints?.length ? await privateAnchor(url, opts.thumbprints, signal) : '';
  const get = (target: URL) =>
    pinned
      ? getTrusting(target, pinned, opts.headers, signal)
      : fetch(target, { signal, redirect: 'manual', headers: opts.headers });
  let target = url;
  for (let redirects = 0; ; redirects++) {
    const res = await get(target);
    if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
      await res.body?.cancel();
      const next = new URL(res.headers.get('location')!, target);
      if (next.origin !== url.origin) throw new Error(`redirected to another host (${next.origin}), refused`);
      if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      target = next;
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`status ${res.status}`);
    }
    const text = await readBounded(res, maxBytes);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error('the answer is not JSON');
    }
  }
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  const tooLarge = () => new Error(`the answer is larger than ${maxBytes} bytes`);
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return '';
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A thumbprint as IAM takes it, compared without case. */
const normalThumbprint = (t: string): string => t.replace(/:/g, '').toLowerCase();

/**
 * The certificate (PEM) to trust for `url`'s host: '' when Node's CAs already trust its chain (AWS too then
 * ignores thumbprints), else the top certificate of the chain the server presents, if its SHA-1 thumbprint is
 * one of `thumbprints`. Throws InvalidIdentityToken when none matches.
 */
async function privateAnchor(url: URL, thumbprints: readonly string[], signal: AbortSignal): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const { authorized, top } = await new Promise<{ authorized: boolean; top: DetailedPeerCertificate }>(
    (resolve, reject) => {
      const socket = connect({
        host,
        port: Number(url.port || 443),
        servername: isIP(host) ? undefined : host,
        // Read only to find the chain's top certificate; nothing is sent on this connection.
        rejectUnauthorized: false,
      });
      const stop = () => socket.destroy(new Error('no answer in time'));
      signal.addEventListener('abort', stop, { once: true });
      socket.once('secureConnect', () => {
        let cert = socket.getPeerCertificate(true);
        // The chain as linked by OpenSSL: up to the last certificate whose issuer is not itself.
        for (let i = 0; i < 10 && cert.issuerCertificate && cert.issuerCertificate.raw !== undefined; i++) {
          if (cert.issuerCertificate.fingerprint256 === cert.fingerprint256) break;
          cert = cert.issuerCertificate;
        }
        resolve({ authorized: socket.authorized, top: cert });
        signal.removeEventListener('abort', stop);
        socket.destroy();
      });
      socket.once('error', (e) => {
        signal.removeEventListener('abort', stop);
        reject(e);
      });
    },
  );
  if (authorized) return '';
  const wanted = new Set(thumbprints.map(normalThumbprint));
  if (!top?.raw || !wanted.has(normalThumbprint(top.fingerprint))) {
    throw new S3Error(
      'InvalidIdentityToken',
      `The OpenID provider's certificate chain (${url.host}) is neither publicly trusted nor signed by a CA whose \
thumbprint is registered`,
    );
  }
  return new X509Certificate(top.raw).toString();
}

/** GET over HTTPS trusting only `ca` (which may be an intermediate): the answer as a fetch Response. */
function getTrusting(
  url: URL,
  ca: string,
  headers: Record<string, string> | undefined,
  signal: AbortSignal,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    // allowPartialTrustChain (Node >= 22.9): an intermediate CA as the trust anchor, as AWS's rule allows.
    const options = { ca, allowPartialTrustChain: true, headers, signal, agent: false };
    const req = request(url, options, (res) => {
      const h = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
      const status = res.statusCode ?? 500;
      const empty = status === 204 || status === 205 || status === 304;
      if (empty) res.resume();
      const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, headers: h }));
    });
    req.once('error', reject);
    req.end();
  });
}
