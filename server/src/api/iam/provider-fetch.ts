// Reading a JSON document from an identity provider (OpenID discovery document, JWKS) within bounds: the
// provider, or whoever answers at its address, must not be able to make Cairn buffer an endless answer,
// wait for ever, or fetch from another host by redirecting it there.

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
  opts: { maxBytes?: number; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<unknown> {
  const maxBytes = opts.maxBytes ?? MAX_PROVIDER_DOCUMENT_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? PROVIDER_FETCH_TIMEOUT_MS);
  let target = url;
  for (let redirects = 0; ; redirects++) {
    const res = await fetch(target, { signal, redirect: 'manual', headers: opts.headers });
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
