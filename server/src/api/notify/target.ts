// What a notification target is to the sender: something that takes one queued event or fails (several at
// once when it has lanes).
import { AmqpTarget } from './amqp.js';
import type { EventRecord } from './event.js';
import { KafkaTarget } from './kafka.js';
import { MqttTarget } from './mqtt.js';
import { NatsTarget } from './nats.js';
import { PostgresTarget } from './postgres.js';
import { RedisTarget } from './redis.js';
import { settingEnvName, type TargetConfig } from './targets.js';
import { WebhookTarget } from './webhook.js';

/** One event as queued on disk: the record and what targets key their messages by. */
export interface QueuedEvent {
  /** `s3:ObjectCreated:Put`, ... */
  eventName: string;
  /** `<bucket>/<key>`, the key not encoded. */
  key: string;
  record: EventRecord;
}

export interface Target {
  /** Resolves once the target has taken the event; throws when it did not (the sender tries again). */
  send(e: QueuedEvent): Promise<void>;
  /** Events it takes at once (default 1): those of one object key are still sent one after the other. */
  readonly lanes?: number;
  close(): Promise<void>;
}

/** MinIO's message body for one event (webhook, NATS, MQTT, AMQP): `{"EventName","Key","Records":[record]}`. */
export const eventLog = (e: QueuedEvent): string =>
  JSON.stringify({ EventName: e.eventName, Key: e.key, Records: [e.record] });

/**
 * An error whose message has every secret (password, token, ...) replaced by `***`: client libraries may echo a
 * URL or their options, and the sender logs failures.
 */
export function withoutSecrets(e: unknown, secrets: (string | undefined)[]): Error {
  let message = e instanceof Error ? e.message : String(e);
  for (const s of secrets) if (s) message = message.split(s).join('***');
  return new Error(message);
}

/** The target a configuration describes; throws (refusing the start) on a bad setting. */
export function makeTarget(c: TargetConfig): Target {
  const env = settingEnvName(c);
  switch (c.type) {
    case 'webhook':
      return new WebhookTarget(c.settings, env);
    case 'redis':
      return new RedisTarget(c.settings, env);
    case 'postgresql':
      return new PostgresTarget(c.settings, env);
    case 'nats':
      return new NatsTarget(c.settings, env);
    case 'mqtt':
      return new MqttTarget(c.settings, env);
    case 'amqp':
      return new AmqpTarget(c.settings, env);
    case 'kafka':
      return new KafkaTarget(c.settings, env);
  }
}

/** Throws on the first bad setting of these targets, as their start would (the CLI checks before it serves). */
export function checkTargets(configs: TargetConfig[]): void {
  for (const c of configs) void makeTarget(c).close(); // made without connecting: nothing to wait for
}
