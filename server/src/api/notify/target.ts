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

/**
 * One event as queued on disk, and as targets take it. The queue holds MinIO's message body itself
 * (`{"EventName","Key","Records":[record]}`, what the webhook, NATS, MQTT, AMQP and Kafka targets send), so
 * delivering it neither parses nor stringifies the record again: the event name and key are read from the text
 * before the record, which is parsed only when a target asks for it (Redis, PostgreSQL, AMQP's headers, NATS's
 * message id). Queues written before hold `{eventName,key,record}`: still read (`parseQueued`).
 */
export class QueuedEvent {
  private parsed: EventRecord | undefined;

  private constructor(
    /** `s3:ObjectCreated:Put`, ... */
    readonly eventName: string,
    /** `<bucket>/<key>`, the key not encoded. */
    readonly key: string,
    /** MinIO's message body for the event: `{"EventName","Key","Records":[record]}`. */
    readonly body: string,
    parsed?: EventRecord,
  ) {
    this.parsed = parsed;
  }

  /** The event of `record` (its name `eventName`, of object `<bucket>/<key>` `key`). */
  static of(eventName: string, key: string, record: EventRecord): QueuedEvent {
    return new QueuedEvent(
      eventName,
      key,
      JSON.stringify({ EventName: eventName, Key: key, Records: [record] }),
      record,
    );
  }

  /** The event as queued (either form); throws on text that is neither (the sender drops it). */
  static parse(text: string): QueuedEvent {
    if (text.startsWith(BODY_START)) {
      // A JSON string cannot hold `,"` unescaped: the first `,"Records":[` ends the Key's string.
      const at = text.indexOf(RECORDS_START);
      if (at < 0 || !text.endsWith(']}')) throw new Error('queued event damaged: not an event body');
      const head = JSON.parse(`${text.slice(0, at)}}`) as { EventName?: unknown; Key?: unknown };
      if (typeof head.EventName !== 'string' || typeof head.Key !== 'string')
        throw new Error('queued event damaged: no EventName or Key');
      return new QueuedEvent(head.EventName, head.Key, text);
    }
    const old = JSON.parse(text) as { eventName?: unknown; key?: unknown; record?: unknown };
    if (
      typeof old.eventName !== 'string' ||
      typeof old.key !== 'string' ||
      !old.record ||
      typeof old.record !== 'object'
    )
      throw new Error('queued event damaged: no eventName, key or record');
    return QueuedEvent.of(old.eventName, old.key, old.record as EventRecord);
  }

  /** The event's record, parsed from the body at the first call. */
  get record(): EventRecord {
    this.parsed ??= (JSON.parse(this.body) as { Records: EventRecord[] }).Records[0];
    return this.parsed;
  }
}
const BODY_START = '{"EventName":';
const RECORDS_START = ',"Records":[';

export interface Target {
  /** Resolves once the target has taken the event; throws when it did not (the sender tries again). */
  send(e: QueuedEvent): Promise<void>;
  /** Events it takes at once (default 1): those of one object key are still sent one after the other. */
  readonly lanes?: number;
  close(): Promise<void>;
}

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
