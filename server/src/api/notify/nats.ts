// The NATS target (npm `nats`), MinIO's settings: each event is published on SUBJECT as MinIO's body
// ({"EventName","Key","Records":[record]}). With JETSTREAM=on the publish waits for the stream's ack (the event
// is stored; its id lets the stream drop a retried copy); otherwise a plain publish is followed by a flush (the
// server's PONG: it has read the message). TLS=on verifies the server's certificate (CERT_AUTHORITY: a CA file).
// One connection, made on the first send and again after it is lost (connection.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, JetStreamClient, NatsConnection } from 'nats';
import { parseDuration } from '../../duration.js';
import { BrokerConnection, SEND_TIMEOUT_MS } from './connection.js';
import type { QueuedEvent, Target } from './target.js';
import { hostPort, onOff } from './targets.js';

/** MinIO's settings Cairn does not implement: set, they refuse the start. */
const NOT_IMPLEMENTED = [
  ...['USER_CREDENTIALS', 'NKEY_SEED', 'CLIENT_CERT', 'CLIENT_KEY', 'STREAMING_CLUSTER_ID'],
  'STREAMING_MAX_PUB_ACKS_IN_FLIGHT',
];
/**
 * On/off settings Cairn does not implement: `on` refuses the start, `off` is what Cairn does anyway. (MinIO's
 * TLS_SKIP_VERIFY still verifies the server's certificate; CERT_AUTHORITY names a CA to trust instead.)
 */
const NOT_IMPLEMENTED_ON = ['TLS_SKIP_VERIFY', 'TLS_HANDSHAKE_FIRST', 'STREAMING', 'STREAMING_ASYNC'];

export class NatsTarget implements Target {
  private readonly options: ConnectionOptions;
  private readonly subject: string;
  private readonly jetstream: boolean;
  private readonly secrets: (string | undefined)[];
  private readonly connection = new BrokerConnection<{ nc: NatsConnection; js?: JetStreamClient }>(
    async (lost) => {
      // Loaded on the first connection: only a server with a NATS target needs the client.
      const { connect } = await import('nats');
      const nc = await connect(this.options);
      void nc.closed().then(lost);
      return { nc, js: this.jetstream ? nc.jetstream() : undefined };
    },
    ({ nc }) => nc.close(),
  );

  constructor(settings: Record<string, string>, env: (setting: string) => string) {
    for (const s of NOT_IMPLEMENTED)
      if (settings[s.toLowerCase()]) throw new Error(`${env(s)} is not implemented (NATS targets)`);
    for (const s of NOT_IMPLEMENTED_ON)
      if (onOff(env(s), settings[s.toLowerCase()] ?? 'off')) throw new Error(`${env(s)}=on is not implemented`);
    const { host, port } = hostPort(env('ADDRESS'), settings.address, 4222);
    // A subject is tokens of printable characters without spaces; wildcards do not name one subject.
    if (!/^[^\s*>.]+(\.[^\s*>.]+)*$/.test(settings.subject))
      throw new Error(`${env('SUBJECT')} must be a NATS subject without wildcards, got '${settings.subject}'`);
    this.subject = settings.subject;
    const { username, password, token } = settings;
    if (Boolean(username) !== Boolean(password))
      throw new Error(
        `${env(username ? 'PASSWORD' : 'USERNAME')} must be set with ${env(username ? 'USERNAME' : 'PASSWORD')}`,
      );
    if (token && username) throw new Error(`${env('TOKEN')} and ${env('USERNAME')} exclude each other`);
    let pingInterval: number | undefined;
    if (settings.ping_interval && settings.ping_interval !== '0') {
      pingInterval = parseDuration(settings.ping_interval);
      if (!pingInterval)
        throw new Error(
          `${env('PING_INTERVAL')} must be a duration such as 30s or 2m, got '${settings.ping_interval}'`,
        );
    }
    this.jetstream = onOff(env('JETSTREAM'), settings.jetstream ?? 'off');
    // TLS=on: the server's certificate is verified against the system's CAs, or CERT_AUTHORITY's (read at start).
    const tls = onOff(env('TLS'), settings.tls ?? 'off');
    let ca: string | undefined;
    if (settings.cert_authority) {
      if (!tls) throw new Error(`${env('CERT_AUTHORITY')} needs ${env('TLS')}=on`);
      try {
        ca = readFileSync(settings.cert_authority, 'utf8');
      } catch {
        throw new Error(`${env('CERT_AUTHORITY')}: cannot read '${settings.cert_authority}'`);
      }
    }
    this.secrets = [password, token];
    this.options = {
      servers: `${host.includes(':') ? `[${host}]` : host}:${port}`,
      name: 'Cairn notifications',
      user: username || undefined,
      pass: password || undefined,
      token: token || undefined,
      pingInterval,
      tls: tls ? { ca } : undefined,
      reconnect: false,
      timeout: SEND_TIMEOUT_MS,
    };
  }

  send(e: QueuedEvent): Promise<void> {
    return this.connection.send('NATS', (c) => this.publish(c, e), this.secrets);
  }

  private async publish({ nc, js }: { nc: NatsConnection; js?: JetStreamClient }, e: QueuedEvent): Promise<void> {
    if (js) {
      // The id of the event: a send retried after its ack was lost is stored once (the stream's duplicate window).
      const r = e.record;
      const id = [r.responseElements['x-amz-request-id'], r.s3.configurationId, e.eventName, e.key].join('\n');
      const msgID = createHash('sha256').update(id).digest('hex');
      await js.publish(this.subject, e.body, { msgID, timeout: SEND_TIMEOUT_MS });
    } else {
      nc.publish(this.subject, e.body);
      await nc.flush();
    }
  }

  close(): Promise<void> {
    return this.connection.drop();
  }
}
