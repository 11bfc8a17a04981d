// A real webhook receiver for notification tests: a node:http server on a free loopback port that keeps every
// POSTed body. It can be stopped (connections refused) and started again on the same port, answer with another
// status or cut the connection, and tells a test when a number of deliveries has arrived, so tests wait on
// events, not on time.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventRecord } from '@cairn/server';

export interface Delivery {
  headers: IncomingHttpHeaders;
  /** The raw body as received. */
  text: string;
  body: { EventName: string; Key: string; Records: EventRecord[] };
  /** What the receiver answered: an HTTP status, or 'cut' (the connection closed without an answer). */
  answer?: number | 'cut';
}

export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;
  /** Requests being answered now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Awaited before each answer (a slow receiver); the delivery is recorded before it. */
  beforeAnswer: (() => Promise<void>) | undefined;
  /** The answer to a delivery (default 200): another status, or 'cut' to close the connection unanswered. */
  answerWith: ((d: Delivery) => number | 'cut') | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const delivery: Delivery = { headers: req.headers, text, body: JSON.parse(text) };
        delivery.answer = this.answerWith?.(delivery) ?? 200;
        this.deliveries.push(delivery);
        await this.beforeAnswer?.();
        this.inFlight--;
        if (delivery.answer === 'cut') req.socket.destroy();
        else {
          res.statusCode = delivery.answer;
          res.end();
        }
        for (const w of this.waiters.filter((x) => this.deliveries.length >= x.n)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening: deliveries fail with connection refused until start() again. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }

  /** Resolves once `n` deliveries in all have arrived. */
  received(n: number): Promise<void> {
    if (this.deliveries.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}
