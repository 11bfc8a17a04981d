// The webhook target: each event is POSTed as JSON ({EventName, Key, Records: [record]}, MinIO's body, sent as
// queued: target.ts) to CAIRN_NOTIFY_WEBHOOK_ENDPOINT_<ID>, with CAIRN_NOTIFY_WEBHOOK_AUTH_TOKEN_<ID> as the
// Authorization header
// (`Bearer <token>`, or the value as it is when it already has a scheme: `<scheme> <token>`). Any 2xx is
// delivered; anything else, or no answer in 10 s, is a failure the sender retries. Up to
// CAIRN_NOTIFY_WEBHOOK_MAX_WORKERS_<ID> events (default 8, 1 to 500) are under way at once, those of one object
// key one after the other (the sender's lanes, lanes.ts), so a slow receiver is not waited on event by event.
//
// The POST goes over undici's Pool (`dispatch`, one keep-alive connection per lane), not node's http nor fetch:
// see bench/notify/README.md for the CPU per event of each. undici is loaded at the first event, so a process
// without a webhook target does not carry it.
import type { Pool } from 'undici';
import type { QueuedEvent, Target } from './target.js';

const SEND_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_WORKERS = 8;
const MAX_WEBHOOK_WORKERS = 500;

export class WebhookTarget implements Target {
  private readonly endpoint: URL;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private pool: Pool | Promise<Pool> | undefined;
  private closed = false;
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
    this.path = `${this.endpoint.pathname}${this.endpoint.search}`;
    this.headers = { 'content-type': 'application/json' };
    const token = settings.auth_token?.trim();
    if (token) this.headers.authorization = token.split(/\s+/).length === 2 ? token : `Bearer ${token}`;
    const workers = settings.max_workers?.trim() || String(DEFAULT_WEBHOOK_WORKERS);
    this.lanes = Number(workers);
    if (!/^\d{1,3}$/.test(workers) || this.lanes < 1 || this.lanes > MAX_WEBHOOK_WORKERS)
      throw new Error(`${env('MAX_WORKERS')} must be a whole number from 1 to 500, got '${workers.slice(0, 40)}'`);
  }

  /** The connections to the endpoint, made at the first event. */
  private connections(): Pool | Promise<Pool> {
    this.pool ??= import('undici').then(({ Pool }) => {
      if (this.closed) throw new Error('the webhook target is closed');
      const pool = new Pool(this.endpoint.origin, {
        connections: this.lanes,
        pipelining: 1,
        connectTimeout: SEND_TIMEOUT_MS,
        headersTimeout: SEND_TIMEOUT_MS,
        bodyTimeout: SEND_TIMEOUT_MS,
      });
      this.pool = pool;
      return pool;
    });
    return this.pool;
  }

  /**
   * One POST through the pool's `dispatch` with a handler of our own: `request` made a Readable for the
   * answer's body, and its handler, per event (bench/notify/README.md). The body is not read (a 2xx is
   * delivered); the pool's headers and body timeouts still apply.
   */
  async send(e: QueuedEvent): Promise<void> {
    const pool = await this.connections();
    const statusCode = await new Promise<number>((resolve, reject) => {
      let status = 0;
      pool.dispatch(
        { method: 'POST', path: this.path, headers: this.headers, body: e.body },
        {
          onRequestStart: () => {},
          onResponseStart: (_controller, code) => {
            status = code;
          },
          onResponseData: () => {},
          onResponseEnd: () => resolve(status),
          onResponseError: (_controller, err) => reject(err),
        },
      );
    });
    if (statusCode < 200 || statusCode > 299) throw new Error(`${this.endpoint.origin} answered ${statusCode}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await Promise.resolve(pool).catch(() => undefined))?.destroy();
  }
}
