// Logging in: the access key and secret sign ONE call, STS AssumeRole, whose temporary credentials (one hour)
// become the session. The secret is not kept anywhere.
import { ApiError, query } from './client.js';
import { startSession } from './session.js';
import { text } from './xml.js';

const DURATION_SECONDS = 3600;

export async function login(accessKey: string, secretKey: string): Promise<void> {
  const creds = { accessKeyId: accessKey, secretAccessKey: secretKey };
  const params = { Action: 'AssumeRole', DurationSeconds: String(DURATION_SECONDS) };
  let region = 'us-east-1';
  let doc: Document;
  try {
    doc = await query('sts', params, creds, region);
  } catch (e) {
    // A server in another region says which one: sign again for it.
    if (!(e instanceof ApiError && e.code === 'AuthorizationHeaderMalformed' && e.region)) throw e;
    region = e.region;
    doc = await query('sts', params, creds, region);
  }
  const expiration = Date.parse(text(doc, 'Expiration'));
  startSession({
    accessKeyId: text(doc, 'AccessKeyId'),
    secretAccessKey: text(doc, 'SecretAccessKey'),
    sessionToken: text(doc, 'SessionToken'),
    expiresAt: Number.isNaN(expiration) ? Date.now() + DURATION_SECONDS * 1000 : expiration,
    region,
    user: accessKey,
  });
}
