// What the targets that hold one connection to their broker (NATS, AMQP) share: the connection is opened on
// the first send and again after it is lost, never retried by the client library itself, and a send that
// fails or takes too long drops it: while the broker is down every send fails at once and the event waits in
// Cairn's queue.
import { withoutSecrets } from './target.js';

/** How long one send (connect, publish, flush or ack) may take before it counts as failed. */
export const SEND_TIMEOUT_MS = 10_000;

/** A broker connection opened lazily and shared by the sends; forgotten when it fails or closes. */
export class BrokerConnection<C> {
  private current: Promise<C> | undefined;

  /**
   * @param open opens a connection; calls `lost` when the broker or the network closes it later.
   * @param shut closes a connection this object dropped.
   */
  constructor(
    private readonly open: (lost: () => void) => Promise<C>,
    private readonly shut: (c: C) => Promise<unknown>,
  ) {}

  get(): Promise<C> {
    if (!this.current) {
      const opening: Promise<C> = this.open(() => {
        if (this.current === opening) this.current = undefined;
      });
      this.current = opening;
    }
    return this.current;
  }

  /** Sends with the connection within SEND_TIMEOUT_MS; on failure the connection is not trusted again. */
  async send(what: string, publish: (c: C) => Promise<void>, secrets: (string | undefined)[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from ${what} in ${SEND_TIMEOUT_MS} ms`)), SEND_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.get().then(publish), timeout]);
    } catch (err) {
      await this.drop();
      throw withoutSecrets(err, secrets);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection (if any); the next send opens a new one. */
  async drop(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    await c?.then(this.shut).catch(() => {});
  }
}
