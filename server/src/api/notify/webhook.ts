// The webhook target: each event is POSTed as JSON ({EventName, Key, Records: [record]}, MinIO's body) to
// CAIRN_NOTIFY_WEBHOOK_ENDPOINT_<ID>, with CAIRN_NOTIFY_WEBHOOK_AUTH_TOKEN_<ID> as the Authorization header
// (`Bearer <token>`, or the value as it is when it already has a scheme: `<scheme> <token>`). Any 2xx is
// delivered; anything else, or no answer in 10 s, is a failure the sender retries. Up to
// CAIRN_NOTIFY_WEBHOOK_MAX_WORKERS_<ID> events (default 8, 1 to 500) are under way at once, those of one object
// key one after the other (the sender's lanes, lanes.ts), so a slow receiver is not waited on event by event.
//
// The POST goes over node's http(s) with a keep-alive agent, not fetch: fetch (undici) cost about 0.3 ms more
// CPU per POST, a third of what a notified 4 KiB PUT cost the server beyond a plain one.
import { Agent as HttpAgent, request as httpRequest } from '../../node-http.js';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { eventLog, type QueuedEvent, type Target } from './target.js';

const SEND_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_WORKERS = 8;
const MAX_WEBHOOK_WORKERS = 500;

export class WebhookTarget implements Target {
  private readonly endpoint: URL;
  private readonly authorization?: string;
  private readonly agent: HttpAgent;
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
    // Credentials in the URL are not sent (fetch refused them too): the token setting is the way.
    if (this.endpoint.username || this.endpoint.password)
      throw new Error(`${env('ENDPOINT')} must not hold a user or password: use ${env('AUTH_TOKEN')}`);
    const token = settings.auth_token?.trim();
    if (token) this.authorization = token.split(/\s+/).length === 2 ? token : `Bearer ${token}`;
    const workers = settings.max_workers?.trim() || String(DEFAULT_WEBHOOK_WORKERS);
    this.lanes = Number(workers);
    if (!/^\d{1,3}$/.test(workers) || this.lanes < 1 || this.lanes > MAX_WEBHOOK_WORKERS)
      throw new Error(`${env('MAX_WORKERS')} must be a whole number from 1 to 500, got '${workers.slice(0, 40)}'`);
    this.agent =
      this.endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  send(e: QueuedEvent): Promise<void> {
    const body = eventLog(e);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (this.authorization) headers.authorization = this.authorization;
    const url = this.endpoint;
    return new Promise<void>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
        agent: this.agent,
        method: 'POST',
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers,
      });
      const timer = setTimeout(
        () => req.destroy(new Error(`${url.origin} did not answer in ${SEND_TIMEOUT_MS / 1000} s`)),
        SEND_TIMEOUT_MS,
      );
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.once('error', () => {}); // the answer's status is what counts; a cut body only loses the socket
        clearTimeout(timer);
        if (status < 200 || status > 299) reject(new Error(`${url.origin} answered ${status}`));
        else resolve();
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
