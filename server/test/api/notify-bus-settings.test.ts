// The message-bus targets' settings (NATS, MQTT, AMQP) as MinIO names them with CAIRN_: read from the environment,
// and every bad or unimplemented one refused when the target is made (the server's start), naming the variable and
// never echoing a secret.
import { describe, expect, it } from 'vitest';
import { makeTarget } from '../../src/api/notify/target.js';
import { notifyTargetsFromEnv } from '../../src/api/notify/targets.js';

/** Makes (and closes) the one target `env` enables: resolves, or rejects with the start's error. */
async function made(env: Record<string, string>): Promise<void> {
  const [config, ...more] = notifyTargetsFromEnv(env);
  expect(more).toEqual([]);
  await makeTarget(config).close();
}

const NATS = { CAIRN_NOTIFY_NATS_ENABLE_1: 'on', CAIRN_NOTIFY_NATS_ADDRESS_1: '127.0.0.1:4222' };
const NATS_OK = { ...NATS, CAIRN_NOTIFY_NATS_SUBJECT_1: 'bucket.events' };
const MQTT = { CAIRN_NOTIFY_MQTT_ENABLE_1: 'on', CAIRN_NOTIFY_MQTT_TOPIC_1: 'minio/events' };
const MQTT_OK = { ...MQTT, CAIRN_NOTIFY_MQTT_BROKER_1: 'tcp://127.0.0.1:1883' };
const AMQP = { CAIRN_NOTIFY_AMQP_ENABLE: 'on', CAIRN_NOTIFY_AMQP_URL: 'amqp://user:amqp-secret@127.0.0.1:5672' };
const AMQP_OK = { ...AMQP, CAIRN_NOTIFY_AMQP_EXCHANGE: 'bucketevents', CAIRN_NOTIFY_AMQP_EXCHANGE_TYPE: 'fanout' };

describe('message-bus targets from the environment', () => {
  it('reads MinIO-named settings of NATS, MQTT and AMQP targets', () => {
    const targets = notifyTargetsFromEnv({
      ...NATS_OK,
      CAIRN_NOTIFY_NATS_JETSTREAM_1: 'on',
      CAIRN_NOTIFY_NATS_TLS_SKIP_VERIFY_1: 'off',
      ...MQTT_OK,
      CAIRN_NOTIFY_MQTT_QOS_1: '1',
      CAIRN_NOTIFY_MQTT_KEEP_ALIVE_INTERVAL_1: '30s',
      ...AMQP_OK,
      CAIRN_NOTIFY_AMQP_ROUTING_KEY: 'rk',
      CAIRN_NOTIFY_AMQP_PUBLISHING_CONFIRMS: 'on',
    });
    expect(targets.map((t) => [t.type, t.id, t.settings])).toEqual([
      ['nats', '1', { address: '127.0.0.1:4222', subject: 'bucket.events', jetstream: 'on', tls_skip_verify: 'off' }],
      ['mqtt', '1', { topic: 'minio/events', broker: 'tcp://127.0.0.1:1883', qos: '1', keep_alive_interval: '30s' }],
      [
        'amqp',
        '_',
        {
          url: 'amqp://user:amqp-secret@127.0.0.1:5672',
          exchange: 'bucketevents',
          exchange_type: 'fanout',
          routing_key: 'rk',
          publishing_confirms: 'on',
        },
      ],
    ]);
  });

  it.each([
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_JETSTREAM_1: 'on', CAIRN_NOTIFY_NATS_PING_INTERVAL_1: '30s' }],
    [
      {
        ...NATS_OK,
        CAIRN_NOTIFY_NATS_USERNAME_1: 'u',
        CAIRN_NOTIFY_NATS_PASSWORD_1: 'p',
        CAIRN_NOTIFY_NATS_TLS_1: 'off',
      },
    ],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_ADDRESS_1: '[::1]:4222', CAIRN_NOTIFY_NATS_TOKEN_1: 't' }],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_TLS_1: 'on' }],
    [{ ...MQTT_OK, CAIRN_NOTIFY_MQTT_QOS_1: '2', CAIRN_NOTIFY_MQTT_RECONNECT_INTERVAL_1: '5s' }],
    [{ ...MQTT, CAIRN_NOTIFY_MQTT_BROKER_1: 'ws://127.0.0.1:8080/mqtt' }],
    [AMQP_OK],
    [{ ...AMQP, CAIRN_NOTIFY_AMQP_ROUTING_KEY: 'queue-name', CAIRN_NOTIFY_AMQP_DELIVERY_MODE: '2' }],
  ])('accepts %o', async (env) => {
    await made(env);
  });

  it.each([
    // NATS
    [NATS, /CAIRN_NOTIFY_NATS_SUBJECT_1 must be set/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_ADDRESS_1: 'nats://h:1' }, /CAIRN_NOTIFY_NATS_ADDRESS_1 must be HOST\[:PORT\]/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_ADDRESS_1: 'h:70000' }, /CAIRN_NOTIFY_NATS_ADDRESS_1 must be HOST\[:PORT\]/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_SUBJECT_1: 'events.>' }, /CAIRN_NOTIFY_NATS_SUBJECT_1 must be a NATS subject/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_USERNAME_1: 'u' }, /CAIRN_NOTIFY_NATS_PASSWORD_1 must be set with/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_PASSWORD_1: 'nats-secret' }, /CAIRN_NOTIFY_NATS_USERNAME_1 must be set with/],
    [
      {
        ...NATS_OK,
        CAIRN_NOTIFY_NATS_USERNAME_1: 'u',
        CAIRN_NOTIFY_NATS_PASSWORD_1: 'p',
        CAIRN_NOTIFY_NATS_TOKEN_1: 't',
      },
      /CAIRN_NOTIFY_NATS_TOKEN_1 and CAIRN_NOTIFY_NATS_USERNAME_1 exclude each other/,
    ],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_JETSTREAM_1: 'yes' }, /CAIRN_NOTIFY_NATS_JETSTREAM_1 must be on or off/],
    [
      { ...NATS_OK, CAIRN_NOTIFY_NATS_PING_INTERVAL_1: 'often' },
      /CAIRN_NOTIFY_NATS_PING_INTERVAL_1 must be a duration/,
    ],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_TLS_1: 'yes' }, /CAIRN_NOTIFY_NATS_TLS_1 must be on or off/],
    [
      { ...NATS_OK, CAIRN_NOTIFY_NATS_CERT_AUTHORITY_1: '/ca.pem' },
      /CAIRN_NOTIFY_NATS_CERT_AUTHORITY_1 needs CAIRN_NOTIFY_NATS_TLS_1=on/,
    ],
    [
      { ...NATS_OK, CAIRN_NOTIFY_NATS_TLS_1: 'on', CAIRN_NOTIFY_NATS_CERT_AUTHORITY_1: '/nonexistent/ca.pem' },
      /CAIRN_NOTIFY_NATS_CERT_AUTHORITY_1: cannot read '\/nonexistent\/ca.pem'/,
    ],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_TLS_SKIP_VERIFY_1: 'on' }, /CAIRN_NOTIFY_NATS_TLS_SKIP_VERIFY_1=on is not/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_TLS_HANDSHAKE_FIRST_1: 'on' }, /TLS_HANDSHAKE_FIRST_1=on is not implemented/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_CLIENT_CERT_1: '/c.pem' }, /CLIENT_CERT_1 is not implemented/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_NKEY_SEED_1: 'SU...' }, /CAIRN_NOTIFY_NATS_NKEY_SEED_1 is not implemented/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_USER_CREDENTIALS_1: '/u.creds' }, /USER_CREDENTIALS_1 is not implemented/],
    [{ ...NATS_OK, CAIRN_NOTIFY_NATS_STREAMING_1: 'on' }, /CAIRN_NOTIFY_NATS_STREAMING_1=on is not implemented/],
    // MQTT
    [MQTT, /CAIRN_NOTIFY_MQTT_BROKER_1 must be set/],
    [{ ...MQTT, CAIRN_NOTIFY_MQTT_BROKER_1: 'localhost:1883' }, /CAIRN_NOTIFY_MQTT_BROKER_1: the scheme must be/],
    [{ ...MQTT, CAIRN_NOTIFY_MQTT_BROKER_1: 'http://h:1883' }, /CAIRN_NOTIFY_MQTT_BROKER_1: the scheme must be/],
    [{ ...MQTT, CAIRN_NOTIFY_MQTT_BROKER_1: 'not a url' }, /CAIRN_NOTIFY_MQTT_BROKER_1 must be a URL/],
    [
      { ...MQTT, CAIRN_NOTIFY_MQTT_BROKER_1: 'tcp://u:mqtt-secret@h:1883' },
      /CAIRN_NOTIFY_MQTT_BROKER_1 must not hold credentials/,
    ],
    [{ ...MQTT_OK, CAIRN_NOTIFY_MQTT_TOPIC_1: 'events/#' }, /CAIRN_NOTIFY_MQTT_TOPIC_1 must be a topic name/],
    [{ ...MQTT_OK, CAIRN_NOTIFY_MQTT_QOS_1: '3' }, /CAIRN_NOTIFY_MQTT_QOS_1 must be 0, 1 or 2/],
    [{ ...MQTT_OK, CAIRN_NOTIFY_MQTT_KEEP_ALIVE_INTERVAL_1: '10' }, /KEEP_ALIVE_INTERVAL_1 must be a duration/],
    [{ ...MQTT_OK, CAIRN_NOTIFY_MQTT_RECONNECT_INTERVAL_1: '1d' }, /RECONNECT_INTERVAL_1 must be a duration/],
    [{ ...MQTT_OK, CAIRN_NOTIFY_MQTT_PASSWORD_1: 'mqtt-secret' }, /CAIRN_NOTIFY_MQTT_PASSWORD_1 needs/],
    // AMQP
    [{ CAIRN_NOTIFY_AMQP_ENABLE: 'on' }, /CAIRN_NOTIFY_AMQP_URL must be set/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_URL: 'http://u:amqp-secret@h' }, /CAIRN_NOTIFY_AMQP_URL must be an amqp:/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_URL: 'amqp-secret' }, /CAIRN_NOTIFY_AMQP_URL must be a URL/],
    [AMQP, /CAIRN_NOTIFY_AMQP_ROUTING_KEY must be set without CAIRN_NOTIFY_AMQP_EXCHANGE/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_EXCHANGE_TYPE: '' }, /CAIRN_NOTIFY_AMQP_EXCHANGE_TYPE must be direct/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_EXCHANGE_TYPE: 'Fanout!' }, /CAIRN_NOTIFY_AMQP_EXCHANGE_TYPE must be direct/],
    [
      { ...AMQP, CAIRN_NOTIFY_AMQP_ROUTING_KEY: 'q', CAIRN_NOTIFY_AMQP_DURABLE: 'on' },
      /CAIRN_NOTIFY_AMQP_DURABLE needs CAIRN_NOTIFY_AMQP_EXCHANGE/,
    ],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_DELIVERY_MODE: '3' }, /CAIRN_NOTIFY_AMQP_DELIVERY_MODE must be 1/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_MANDATORY: 'maybe' }, /CAIRN_NOTIFY_AMQP_MANDATORY must be on or off/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_IMMEDIATE: 'on' }, /CAIRN_NOTIFY_AMQP_IMMEDIATE=on is not implemented/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_NO_WAIT: 'on' }, /CAIRN_NOTIFY_AMQP_NO_WAIT=on is not implemented/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_INTERNAL: 'on' }, /CAIRN_NOTIFY_AMQP_INTERNAL=on: an internal exchange/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_ARGUMENTS: 'x-max-length=1' }, /CAIRN_NOTIFY_AMQP_ARGUMENTS is not implemented/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_PUBLISHING_CONFIRMS: 'off' }, /PUBLISHING_CONFIRMS=off is not implemented/],
    [{ ...AMQP_OK, CAIRN_NOTIFY_AMQP_PUBLISHER_CONFIRMS: 'off' }, /PUBLISHER_CONFIRMS=off is not implemented/],
  ])('refuses %o', async (env, message) => {
    const error = await made(env).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(message);
    for (const secret of ['amqp-secret', 'mqtt-secret', 'nats-secret']) expect(error?.message).not.toContain(secret);
  });
});
