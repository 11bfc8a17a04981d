// Logging in: the access key and secret sign ONE call, STS AssumeRole, whose temporary credentials (one hour)
// become the session. The secret is not kept anywhere. (The OpenID Connect login is in openid.ts; both end in
// startLoggedIn.)
import { ApiError, query } from './client.js';
import { startSession } from './session.js';
import type { Credentials } from './sigv4.js';
import { text } from './xml.js';

export const DURATION_SECONDS = 3600;

/** Calls STS signed by `creds`, in the server's region (learnt from its refusal of us-east-1); the region too. */
async function stsInRegion(creds: Credentials, params: Record<string, string>): Promise<[Document, string]> {
  try {
    return [await query('sts', params, creds, 'us-east-1'), 'us-east-1'];
  } catch (e) {
    // A server in another region says which one: sign again for it.
    if (!(e instanceof ApiError && e.code === 'AuthorizationHeaderMalformed' && e.region)) throw e;
    return [await query('sts', params, creds, e.region), e.region];
  }
}

export async function login(accessKey: string, secretKey: string): Promise<void> {
  const creds = { accessKeyId: accessKey, secretAccessKey: secretKey };
  const [doc, region] = await stsInRegion(creds, { Action: 'AssumeRole', DurationSeconds: String(DURATION_SECONDS) });
  startLoggedIn(doc, region, accessKey);
}

/**
 * Makes the temporary credentials of an STS answer the session. `region`: the server's, when known; otherwise
 * a signed GetCallerIdentity with the new credentials finds it (and proves they work).
 */
export async function startLoggedIn(doc: Document, region: string | undefined, user: string): Promise<void> {
  const expiration = Date.parse(text(doc, 'Expiration'));
  const creds = {
    accessKeyId: text(doc, 'AccessKeyId'),
    secretAccessKey: text(doc, 'SecretAccessKey'),
    sessionToken: text(doc, 'SessionToken'),
  };
  const known = region ?? (await stsInRegion(creds, { Action: 'GetCallerIdentity' }))[1];
  startSession({
    ...creds,
    expiresAt: Number.isNaN(expiration) ? Date.now() + DURATION_SECONDS * 1000 : expiration,
    region: known,
    user,
  });
}
