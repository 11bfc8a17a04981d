// The Kafka target (kafkajs): each event is one message on TOPIC, keyed by `<bucket>/<object>` (so one key's
// events stay in one partition, in order) with MinIO's value ({EventName, Key, Records: [record]}), produced
// with acks=all: send resolves once every in-sync replica has it. MinIO's settings Cairn does not act on
// (client certificates, protocol version, batching, compression levels) are refused at start.
import type { CompressionTypes, KafkaConfig, Producer, SASLOptions } from 'kafkajs';
import type { QueuedEvent, Target } from './target.js';

/** MinIO's SASL_MECHANISM values and kafkajs's names for them. */
const MECHANISMS = { plain: 'plain', sha256: 'scram-sha-256', sha512: 'scram-sha-512' } as const;
/** kafkajs's CompressionTypes.None and .GZIP (the library is loaded on the first send, not for these). */
const COMPRESSION: Record<string, CompressionTypes> = { none: 0, gzip: 1 };

function onOff(value: string | undefined, name: string): boolean {
  const v = (value ?? 'off').toLowerCase();
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false' || v === '') return false;
  throw new Error(`${name} must be on or off, got '${value}'`);
}

export class KafkaTarget implements Target {
  private readonly config: KafkaConfig;
  /** Made on the first send: kafkajs is loaded only by a server with a Kafka target. */
  private producer: Promise<Producer> | undefined;
  private readonly topic: string;
  private readonly compression: CompressionTypes;
  private connected: Promise<void> | undefined;

  constructor(settings: Record<string, string>, env: (setting: string) => string) {
    const brokers = settings.brokers.split(',').map((b) => b.trim());
    for (const b of brokers)
      if (!/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(b))
        throw new Error(`${env('BROKERS')}: '${b}' is not HOST:PORT`);
    this.topic = settings.topic;
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(this.topic) || this.topic === '.' || this.topic === '..')
      throw new Error(`${env('TOPIC')}: '${this.topic}' is not a Kafka topic name (letters, digits, . _ -)`);
    const codec = (settings.producer_compression_codec || 'none').toLowerCase();
    if (COMPRESSION[codec] === undefined)
      throw new Error(`${env('PRODUCER_COMPRESSION_CODEC')}: '${codec}' is not implemented (none, gzip)`);
    this.compression = COMPRESSION[codec];

    const tls = onOff(settings.tls, env('TLS'));
    const skipVerify = onOff(settings.tls_skip_verify, env('TLS_SKIP_VERIFY'));
    if (skipVerify && !tls) throw new Error(`${env('TLS_SKIP_VERIFY')} needs ${env('TLS')}=on`);
    let sasl: SASLOptions | undefined;
    if (onOff(settings.sasl, env('SASL'))) {
      const mechanism = MECHANISMS[(settings.sasl_mechanism || 'plain').toLowerCase() as keyof typeof MECHANISMS];
      if (!mechanism)
        throw new Error(
          `${env('SASL_MECHANISM')}: '${settings.sasl_mechanism}' is not implemented (plain, sha256, sha512)`,
        );
      if (!settings.sasl_username) throw new Error(`${env('SASL_USERNAME')} must be set when SASL is on`);
      sasl = { mechanism, username: settings.sasl_username, password: settings.sasl_password ?? '' } as SASLOptions;
    } else {
      for (const s of ['sasl_username', 'sasl_password', 'sasl_mechanism'])
        if (settings[s]) throw new Error(`${env(s.toUpperCase())} is set but ${env('SASL')} is not on`);
    }

    this.config = {
      clientId: 'cairn',
      brokers,
      ssl: tls ? { rejectUnauthorized: !skipVerify } : false,
      sasl,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      // A few quick retries ride over a leader election; a broker that is down fails the send and Cairn's queue
      // keeps the event.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: 0, // logLevel.NOTHING
    };
  }

  private async makeProducer(): Promise<Producer> {
    const { Kafka } = await import('kafkajs');
    return new Kafka(this.config).producer();
  }

  async send(e: QueuedEvent): Promise<void> {
    const producer = await (this.producer ??= this.makeProducer());
    this.connected ??= producer.connect();
    try {
      await this.connected;
      await producer.send({
        topic: this.topic,
        acks: -1, // all in-sync replicas
        compression: this.compression,
        messages: [{ key: e.key, value: e.body }],
      });
    } catch (err) {
      // Start again from a fresh connection next time (the broker may have restarted).
      this.connected = undefined;
      await producer.disconnect().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    await (await this.producer)?.disconnect();
  }
}
