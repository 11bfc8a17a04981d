// The webhook target: each event is POSTed as JSON ({EventName, Key, Records: [record]}, MinIO's body) to
// CAIRN_NOTIFY_WEBHOOK_ENDPOINT_<ID>, with CAIRN_NOTIFY_WEBHOOK_AUTH_TOKEN_<ID> as the Authorization header
// (`Bearer <token>`, or the value as it is when it already has a scheme: `<scheme> <token>`). Any 2xx is
// delivered; anything else, or no answer in 10 s, is a failure the sender retries.
import { eventLog, type QueuedEvent, type Target } from './target.js';

const SEND_TIMEOUT_MS = 10_000;

export class WebhookTarget implements Target {
  private readonly endpoint: URL;
  private readonly authorization?: string;

  constructor(settings: Record<string, string>, env: (setting: string) => string) {
    try {
      this.endpoint = new URL(settings.endpoint);
    } catch {
      throw new Error(`${env('ENDPOINT')}: '${settings.endpoint}' is not a URL`);
    }
    if (this.endpoint.protocol !== 'http:' && this.endpoint.protocol !== 'https:')
      throw new Error(`${env('ENDPOINT')} must be an http:// or https:// URL`);
    const token = settings.auth_token?.trim();
    if (token) this.authorization = token.split(/\s+/).length === 2 ? token : `Bearer ${token}`;
  }

  async send(e: QueuedEvent): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    const res = await fetch(this.endpoint, {
      method: 'POST',
      headers,
      body: eventLog(e),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) throw new Error(`${this.endpoint.origin} answered ${res.status}`);
  }

  async close(): Promise<void> {}
}
