// The MQTT target (npm `mqtt`), MinIO's settings: each event is published on TOPIC as MinIO's body
// ({"EventName","Key","Records":[record]}) with the QOS asked for. A send resolves once the broker acknowledged
// the message (QoS 1: PUBACK, QoS 2: PUBCOMP) or, at QoS 0, once it was written to the socket. The client
// reconnects by itself every RECONNECT_INTERVAL; a send waits for the connection (at most SEND_TIMEOUT_MS) and
// fails when the broker refuses it or is not there, leaving the event in Cairn's queue.
import { randomBytes } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import { parseDuration } from '../../duration.js';
import { type QueuedEvent, type Target, withoutSecrets } from './target.js';

/** How long a send waits for the connection, then for the broker's acknowledgement. */
const SEND_TIMEOUT_MS = 10_000;
/** MinIO's schemes for BROKER and what the client calls them. */
const SCHEMES: Record<string, string> = {
  'tcp:': 'mqtt',
  'mqtt:': 'mqtt',
  'ws:': 'ws',
  'ssl:': 'mqtts',
  'tls:': 'mqtts',
  'tcps:': 'mqtts',
  'mqtts:': 'mqtts',
  'wss:': 'wss',
};

export class MqttTarget implements Target {
  private readonly url: string;
  private readonly options: IClientOptions;
  private readonly topic: string;
  private readonly qos: 0 | 1 | 2;
  /** Made on the first send: the mqtt client library is loaded only by a server with an MQTT target. */
  private client: Promise<MqttClient> | undefined;
  private closed = false;

  constructor(settings: Record<string, string>, env: (setting: string) => string) {
    let broker: URL;
    try {
      broker = new URL(settings.broker);
    } catch {
      throw new Error(`${env('BROKER')} must be a URL such as tcp://HOST:1883`);
    }
    const scheme = SCHEMES[broker.protocol];
    if (!scheme) throw new Error(`${env('BROKER')}: the scheme must be one of tcp, ws, ssl, tls, tcps, wss`);
    // Credentials in the URL would reach logs with it: they have settings of their own.
    if (broker.username || broker.password)
      throw new Error(`${env('BROKER')} must not hold credentials: set ${env('USERNAME')} and ${env('PASSWORD')}`);
    const port = broker.port || (scheme === 'mqtt' ? '1883' : scheme === 'mqtts' ? '8883' : '');
    this.url = `${scheme}://${broker.host}${port && !broker.port ? `:${port}` : ''}${broker.pathname}`;
    // Topic names, not filters: no wildcards, not empty, no NUL (MQTT 3.1.1, 4.7).
    if (!settings.topic || /[+#\0]/.test(settings.topic))
      throw new Error(`${env('TOPIC')} must be a topic name without wildcards, got '${settings.topic}'`);
    this.topic = settings.topic;
    const qos = settings.qos ?? '0';
    if (qos !== '0' && qos !== '1' && qos !== '2') throw new Error(`${env('QOS')} must be 0, 1 or 2, got '${qos}'`);
    this.qos = Number(qos) as 0 | 1 | 2;
    const seconds = (name: string, dflt: number) => {
      const v = settings[name.toLowerCase()];
      if (v === undefined || v === '' || v === '0s' || v === '0') return dflt;
      const ms = parseDuration(v);
      if (!ms) throw new Error(`${env(name)} must be a duration such as 10s or 1m, got '${v}'`);
      return ms / 1000;
    };
    const { username, password } = settings;
    if (password && !username) throw new Error(`${env('PASSWORD')} needs ${env('USERNAME')}`);
    this.options = {
      // MinIO's defaults: keep-alive 10 s; reconnection every second (MinIO's client backs off up to 10 min).
      keepalive: seconds('KEEP_ALIVE_INTERVAL', 10),
      reconnectPeriod: seconds('RECONNECT_INTERVAL', 1) * 1000,
      connectTimeout: SEND_TIMEOUT_MS,
      clientId: `cairn-${randomBytes(8).toString('hex')}`,
      clean: true,
      username: username || undefined,
      password: password || undefined,
      // Nothing is queued inside the client while it is offline: Cairn's queue holds the events.
      queueQoSZero: false,
    };
  }

  async send(e: QueuedEvent): Promise<void> {
    if (this.closed) throw new Error('the MQTT target is closed');
    const client = await (this.client ??= this.connect());
    if (this.closed) throw new Error('the MQTT target is closed');
    let timer: NodeJS.Timeout | undefined;
    let detach = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        const publish = () => {
          detach();
          client.publish(this.topic, e.body, { qos: this.qos }, (err) => (err ? reject(err) : resolve()));
        };
        const ended = () => reject(new Error('the MQTT target is closed'));
        // Refused (broker down, bad credentials): fail now, the sender tries again later.
        const failed = (err: Error) => reject(err);
        detach = () => {
          client.off('connect', publish);
          client.off('end', ended);
          client.off('error', failed);
        };
        timer = setTimeout(
          () => reject(new Error(`no answer from the MQTT broker in ${SEND_TIMEOUT_MS} ms`)),
          SEND_TIMEOUT_MS,
        );
        if (client.connected) publish();
        else {
          client.once('connect', publish);
          client.once('end', ended);
          client.once('error', failed);
        }
      });
    } catch (err) {
      throw withoutSecrets(err, [this.options.password?.toString()]);
    } finally {
      detach();
      clearTimeout(timer);
    }
  }

  private async connect(): Promise<MqttClient> {
    const { connect } = await import('mqtt');
    const client = connect(this.url, this.options);
    // Connection errors reach the sender as sends that time out; without a listener they would be thrown.
    client.on('error', () => {});
    return client;
  }

  async close(): Promise<void> {
    this.closed = true;
    await (await this.client)?.endAsync(true);
  }
}
