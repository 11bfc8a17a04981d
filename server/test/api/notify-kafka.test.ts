// Kafka target settings without a broker: MinIO's names in the environment, and what Cairn refuses at start
// rather than ignores (client certificates, protocol version, batching, compression it does not do).
import { describe, expect, it } from 'vitest';
import { KafkaTarget } from '../../src/api/notify/kafka.js';
import { notifyTargetsFromEnv, settingEnvName } from '../../src/api/notify/targets.js';

const ENV = settingEnvName({ id: '1', type: 'kafka' });

describe('Kafka targets in the environment', () => {
  it("reads MinIO's settings", () => {
    expect(
      notifyTargetsFromEnv({
        CAIRN_NOTIFY_KAFKA_ENABLE_1: 'on',
        CAIRN_NOTIFY_KAFKA_BROKERS_1: 'k1:9092,k2:9092',
        CAIRN_NOTIFY_KAFKA_TOPIC_1: 'bucketevents',
        CAIRN_NOTIFY_KAFKA_SASL_1: 'on',
        CAIRN_NOTIFY_KAFKA_SASL_MECHANISM_1: 'sha512',
        CAIRN_NOTIFY_KAFKA_SASL_USERNAME_1: 'u',
        CAIRN_NOTIFY_KAFKA_SASL_PASSWORD_1: 'p',
        CAIRN_NOTIFY_KAFKA_TLS_1: 'on',
        CAIRN_NOTIFY_KAFKA_PRODUCER_COMPRESSION_CODEC_1: 'gzip',
      }),
    ).toEqual([
      {
        type: 'kafka',
        id: '1',
        queueLimit: 100_000,
        settings: {
          brokers: 'k1:9092,k2:9092',
          topic: 'bucketevents',
          sasl: 'on',
          sasl_mechanism: 'sha512',
          sasl_username: 'u',
          sasl_password: 'p',
          tls: 'on',
          producer_compression_codec: 'gzip',
        },
      },
    ]);
  });

  const base = { CAIRN_NOTIFY_KAFKA_ENABLE: 'on', CAIRN_NOTIFY_KAFKA_BROKERS: 'k:9092', CAIRN_NOTIFY_KAFKA_TOPIC: 't' };
  it.each([
    [{ CAIRN_NOTIFY_KAFKA_ENABLE: 'on', CAIRN_NOTIFY_KAFKA_BROKERS: 'k:9092' }, /KAFKA_TOPIC must be set/],
    [{ ...base, CAIRN_NOTIFY_KAFKA_VERSION: '2.8.0' }, /KAFKA_VERSION is not implemented/],
    [{ ...base, CAIRN_NOTIFY_KAFKA_CLIENT_TLS_CERT: '/c.pem' }, /KAFKA_CLIENT_TLS_CERT is not implemented/],
    [{ ...base, CAIRN_NOTIFY_KAFKA_TLS_CLIENT_AUTH: '4' }, /KAFKA_TLS_CLIENT_AUTH is not implemented/],
    [{ ...base, CAIRN_NOTIFY_KAFKA_BATCH_SIZE: '10' }, /KAFKA_BATCH_SIZE is not implemented/],
    [{ ...base, CAIRN_NOTIFY_KAFKA_BATCH_COMMIT_TIMEOUT: '1s' }, /BATCH_COMMIT_TIMEOUT is not implemented/],
    [{ ...base, CAIRN_NOTIFY_KAFKA_PRODUCER_COMPRESSION_LEVEL: '3' }, /COMPRESSION_LEVEL is not implemented/],
    [{ CAIRN_NOTIFY_KAFKA_PARTITION_1: '3' }, /unknown setting of kafka/],
  ])('refuses %o', (env, message) => {
    expect(() => notifyTargetsFromEnv(env)).toThrow(message);
  });
});

describe('Kafka target settings', () => {
  const make = (settings: Record<string, string>) =>
    new KafkaTarget({ brokers: 'k:9092', topic: 't', ...settings }, ENV);

  it('takes what it implements (no connection is made before the first event)', async () => {
    const accepted: Record<string, string>[] = [
      {},
      { brokers: '[::1]:9092, k2.example:19092' },
      { tls: 'on', tls_skip_verify: 'on' },
      { sasl: 'on', sasl_mechanism: 'plain', sasl_username: 'u', sasl_password: 'p' },
      { sasl: 'on', sasl_mechanism: 'SHA256', sasl_username: 'u' },
      { producer_compression_codec: 'gzip' },
    ];
    for (const settings of accepted) await make(settings).close();
  });

  it.each([
    [{ brokers: 'k' }, /KAFKA_BROKERS_1: 'k' is not HOST:PORT/],
    [{ brokers: 'k:9092,' }, /'' is not HOST:PORT/],
    [{ topic: 'a/b' }, /KAFKA_TOPIC_1: 'a\/b' is not a Kafka topic name/],
    [{ topic: '..' }, /not a Kafka topic name/],
    [{ producer_compression_codec: 'snappy' }, /'snappy' is not implemented/],
    [{ tls: 'yes' }, /KAFKA_TLS_1 must be on or off/],
    [{ tls_skip_verify: 'on' }, /TLS_SKIP_VERIFY_1 needs CAIRN_NOTIFY_KAFKA_TLS_1=on/],
    [{ sasl: 'on', sasl_mechanism: 'oauthbearer', sasl_username: 'u' }, /'oauthbearer' is not implemented/],
    [{ sasl: 'on' }, /KAFKA_SASL_USERNAME_1 must be set/],
    [{ sasl_username: 'u' }, /KAFKA_SASL_USERNAME_1 is set but CAIRN_NOTIFY_KAFKA_SASL_1 is not on/],
  ])('refuses %o', (settings, message) => {
    expect(() => make(settings)).toThrow(message);
  });
});
