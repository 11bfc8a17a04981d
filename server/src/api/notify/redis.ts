// The Redis target (ioredis), MinIO's two formats: `namespace` keeps one hash field per object
// (HSET <key> <bucket/object> {"Records":[...]}, HDEL when the object is deleted), `access` appends every
// event to a list (RPUSH <key> [{"Event":[...],"EventTime":...}]). Commands fail at once while Redis is down
// (no offline queue): the event stays in Cairn's queue and the sender retries.
import type { Redis, RedisOptions } from 'ioredis';
import type { QueuedEvent, Target } from './target.js';

export class RedisTarget implements Target {
  private readonly options: RedisOptions;
  /** The client, made on the first send: ioredis is loaded only by a server with a Redis target. */
  private redis: Promise<Redis> | undefined;
  private readonly key: string;
  private readonly format: 'namespace' | 'access';

  constructor(settings: Record<string, string>, env: (setting: string) => string) {
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(settings.address);
    if (!m) throw new Error(`${env('ADDRESS')} must be HOST[:PORT], got '${settings.address}'`);
    const format = settings.format ?? 'namespace';
    if (format !== 'namespace' && format !== 'access')
      throw new Error(`${env('FORMAT')} must be namespace or access, got '${format}'`);
    this.format = format;
    this.key = settings.key;
    this.options = {
      host: m[1] ?? m[2],
      port: m[3] ? Number(m[3]) : 6379,
      username: settings.user || undefined,
      password: settings.password || undefined,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: 'Cairn',
    };
  }

  private async client(): Promise<Redis> {
    const { Redis } = await import('ioredis');
    const redis = new Redis(this.options);
    // Connection errors reach the sender as failed commands; without a listener they would be thrown.
    redis.on('error', () => {});
    return redis;
  }

  async send(e: QueuedEvent): Promise<void> {
    const redis = await (this.redis ??= this.client());
    if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
    if (this.format === 'access') {
      await redis.rpush(this.key, JSON.stringify([{ Event: [e.record], EventTime: e.record.eventTime }]));
    } else if (e.eventName === 's3:ObjectRemoved:Delete') {
      await redis.hdel(this.key, e.key);
    } else {
      await redis.hset(this.key, e.key, JSON.stringify({ Records: [e.record] }));
    }
  }

  async close(): Promise<void> {
    (await this.redis)?.disconnect();
  }
}
