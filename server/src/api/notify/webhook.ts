// The webhook target: each event is POSTed as JSON ({EventName, Key, Records: [record]}, MinIO's body) to
// CAIRN_NOTIFY_WEBHOOK_ENDPOINT_<ID>, with CAIRN_NOTIFY_WEBHOOK_AUTH_TOKEN_<ID> as the Authorization header
// (`Bearer <token>`, or the value as it is when it already has a scheme: `<scheme> <token>`). Any 2xx is
// delivered; anything else, or no answer in 10 s, is a failure the sender retries. Up to
// CAIRN_NOTIFY_WEBHOOK_MAX_WORKERS_<ID> events (default 8, 1 to 500) are under way at once, those of one object
// key one after the other (the sender's lanes, lanes.ts), so a slow receiver is not waited on event by event.
import { eventLog, type QueuedEvent, type Target } from './target.js';

const SEND_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_WORKERS = 8;
const MAX_WEBHOOK_WORKERS = 500;

export class WebhookTarget implements Target {
  private readonly endpoint: URL;
  private readonly authorization?: string;
  /** Events sent at once (the sender's lanes). */
  readonly lanes: number;

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
    const workers = settings.max_workers?.trim() || String(DEFAULT_WEBHOOK_WORKERS);
    this.lanes = Number(workers);
    if (!/^\d{1,3}$/.test(workers) || this.lanes < 1 || this.lanes > MAX_WEBHOOK_WORKERS)
      throw new Error(`${env('MAX_WORKERS')} must be a whole number from 1 to 500, got '${workers.slice(0, 40)}'`);
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
