// What a notification target is to the sender: something that takes one queued event or fails.
import type { EventRecord } from './event.js';
import { PostgresTarget } from './postgres.js';
import { RedisTarget } from './redis.js';
import type { TargetConfig } from './targets.js';
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
  close(): Promise<void>;
}

/** The target a configuration describes; throws (refusing the start) on a bad setting. */
export function makeTarget(c: TargetConfig): Target {
  // MinIO's settings say POSTGRES for the target its ARNs call postgresql.
  const envType = c.type === 'postgresql' ? 'POSTGRES' : c.type.toUpperCase();
  const envName = `CAIRN_NOTIFY_${envType}_*${c.id === '_' ? '' : `_${c.id}`}`;
  switch (c.type) {
    case 'webhook':
      return new WebhookTarget(c.settings, envName);
    case 'redis':
      return new RedisTarget(c.settings, envName);
    case 'postgresql':
      return new PostgresTarget(c.settings, envName);
  }
}
