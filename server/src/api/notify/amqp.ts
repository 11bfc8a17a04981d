// The AMQP 0.9.1 target (npm `amqplib`, RabbitMQ), MinIO's settings: each event is published to EXCHANGE
// (declared with EXCHANGE_TYPE, DURABLE, AUTO_DELETED; none: the default exchange, where ROUTING_KEY names the
// queue) as MinIO's body ({"EventName","Key","Records":[record]}) with MinIO's headers minio-bucket and
// minio-event. The channel is a confirm channel: a send resolves only on the broker's ack, and fails on a nack,
// on a message returned as unroutable (MANDATORY=on), or when the connection is lost; the event then stays in
// Cairn's queue. One connection, made on the first send and again after it is lost (connection.ts).
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { BrokerConnection, SEND_TIMEOUT_MS } from './connection.js';
import type { QueuedEvent, Target } from './target.js';
import { onOff } from './targets.js';

const EXCHANGE_TYPES = /^(direct|fanout|topic|headers|x-[a-z0-9-]+)$/;

interface Channel {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Message ids the broker returned as unroutable (MANDATORY=on), until their confirm arrives. */
  returned: Set<string>;
}

export class AmqpTarget implements Target {
  private readonly url: string;
  private readonly secrets: string[];
  private readonly exchange: string;
  private readonly exchangeType: string;
  private readonly routingKey: string;
  private readonly exchangeOptions: { durable: boolean; autoDelete: boolean };
  private readonly mandatory: boolean;
  private readonly deliveryMode: 1 | 2 | undefined;
  private readonly channel = new BrokerConnection<Channel>(
    (lost) => this.open(lost),
    ({ connection }) => connection.close(),
  );

  constructor(settings: Record<string, string>, env: (setting: string) => string) {
    let url: URL;
    try {
      url = new URL(settings.url);
    } catch {
      // Not echoed: the URL holds the password.
      throw new Error(`${env('URL')} must be a URL such as amqp://USER:PASSWORD@HOST:5672/VHOST`);
    }
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:')
      throw new Error(`${env('URL')} must be an amqp:// or amqps:// URL`);
    this.url = settings.url;
    this.secrets = [url.password, decodeURIComponent(url.password)];
    const on = (s: string) => onOff(env(s), settings[s.toLowerCase()] ?? 'off');
    // Settings MinIO takes that would change nothing here or cannot work: refused rather than ignored.
    if (settings.arguments) throw new Error(`${env('ARGUMENTS')} is not implemented`);
    if (on('IMMEDIATE')) throw new Error(`${env('IMMEDIATE')}=on is not implemented (RabbitMQ refuses it)`);
    if (on('NO_WAIT')) throw new Error(`${env('NO_WAIT')}=on is not implemented`);
    if (on('INTERNAL')) throw new Error(`${env('INTERNAL')}=on: an internal exchange takes no messages from Cairn`);
    for (const s of ['PUBLISHER_CONFIRMS', 'PUBLISHING_CONFIRMS'])
      if (settings[s.toLowerCase()] !== undefined && !on(s))
        throw new Error(`${env(s)}=off is not implemented: Cairn always waits for the broker's confirms`);
    this.exchange = settings.exchange ?? '';
    this.exchangeType = settings.exchange_type ?? '';
    this.routingKey = settings.routing_key ?? '';
    this.exchangeOptions = { durable: on('DURABLE'), autoDelete: on('AUTO_DELETED') };
    if (this.exchange) {
      if (!EXCHANGE_TYPES.test(this.exchangeType))
        throw new Error(
          `${env('EXCHANGE_TYPE')} must be direct, fanout, topic, headers or x-..., got '${this.exchangeType}'`,
        );
    } else {
      for (const s of ['EXCHANGE_TYPE', 'DURABLE', 'AUTO_DELETED'])
        if (settings[s.toLowerCase()] && settings[s.toLowerCase()] !== 'off')
          throw new Error(`${env(s)} needs ${env('EXCHANGE')} (it is about the exchange Cairn declares)`);
      if (!this.routingKey)
        throw new Error(`${env('ROUTING_KEY')} must be set without ${env('EXCHANGE')} (it names the queue)`);
    }
    this.mandatory = on('MANDATORY');
    const mode = settings.delivery_mode ?? '0';
    if (mode !== '0' && mode !== '1' && mode !== '2')
      throw new Error(`${env('DELIVERY_MODE')} must be 1 (transient) or 2 (persistent), got '${mode}'`);
    this.deliveryMode = mode === '0' ? undefined : (Number(mode) as 1 | 2);
  }

  send(e: QueuedEvent): Promise<void> {
    return this.channel.send('the AMQP broker', (c) => this.publish(c, e), this.secrets);
  }

  private async publish(c: Channel, e: QueuedEvent): Promise<void> {
    const messageId = randomUUID();
    await new Promise<void>((resolve, reject) => {
      c.channel.publish(
        this.exchange,
        this.routingKey,
        Buffer.from(e.body),
        {
          contentType: 'application/json',
          headers: { 'minio-bucket': e.record.s3.bucket.name, 'minio-event': e.eventName },
          deliveryMode: this.deliveryMode,
          mandatory: this.mandatory,
          messageId,
        },
        (err) => (err ? reject(new Error('the AMQP broker refused the message (nack)')) : resolve()),
      );
    });
    // A returned message is confirmed too (RabbitMQ sends basic.return before basic.ack): not delivered.
    if (c.returned.delete(messageId)) throw new Error('the AMQP broker could route the message to no queue');
  }

  /** A connection and its confirm channel; `lost` when the broker closes either (a broker-side error closes the channel). */
  private async open(lost: () => void): Promise<Channel> {
    // Loaded on the first connection: only a server with an AMQP target needs amqplib.
    const { connect } = await import('amqplib');
    const connection = await connect(this.url, { timeout: SEND_TIMEOUT_MS });
    try {
      const channel = await connection.createConfirmChannel();
      const c: Channel = { connection, channel, returned: new Set() };
      connection.on('error', () => {});
      connection.on('close', lost);
      channel.on('error', () => {});
      channel.on('close', lost);
      channel.on('return', (m: Message) => {
        if (typeof m.properties.messageId === 'string') c.returned.add(m.properties.messageId);
      });
      if (this.exchange) await channel.assertExchange(this.exchange, this.exchangeType, this.exchangeOptions);
      return c;
    } catch (err) {
      await connection.close().catch(() => {});
      throw err;
    }
  }

  close(): Promise<void> {
    return this.channel.drop();
  }
}
