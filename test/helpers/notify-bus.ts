// What the message-bus notification tests share: the server's log kept in memory (to wait for a line and to prove
// no secret reaches it), a collector of received messages that tells a test when enough have arrived (tests wait
// on messages, not on time), and a bucket configured to send its object events to one target.
import { Writable } from 'node:stream';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { EventRecord } from '@cairn/server';
import pino, { type Logger } from 'pino';

/** MinIO's message body for one event. */
export interface EventBody {
  EventName: string;
  Key: string;
  Records: EventRecord[];
}

/** The server's log lines (pino JSON), kept in memory. */
export class LogLines {
  readonly lines: Record<string, unknown>[] = [];
  private raw = '';
  private waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];

  logger(level: 'info' | 'debug' = 'info'): Logger {
    const stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.raw += chunk.toString();
        for (const text of chunk.toString().split('\n')) {
          if (!text) continue;
          const line = JSON.parse(text) as Record<string, unknown>;
          this.lines.push(line);
          for (const w of this.waiters.filter((x) => x.match(line))) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
        done();
      },
    });
    return pino({ level }, stream);
  }

  /** Everything logged so far, as written. */
  text(): string {
    return this.raw;
  }

  /** The first line (logged already or later) that matches. */
  waitFor(match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

/** Messages as a consumer receives them. */
export class Received<T> {
  readonly items: T[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const w of this.waiters.filter((x) => this.items.length >= x.n)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  /** Resolves once `n` messages have arrived in all (at once if they have). */
  async count(n: number): Promise<void> {
    if (this.items.length >= n) return;
    await new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
  }

  /** The `n` messages after the first `from`, once they have arrived. */
  async next(from: number, n: number): Promise<T[]> {
    await this.count(from + n);
    return this.items.slice(from, from + n);
  }

  /** The first `n` messages, once they have arrived. */
  first(n: number): Promise<T[]> {
    return this.next(0, n);
  }
}

/** Makes `bucket` (unless it exists) and sends its object-created and object-removed events to the target `arn`. */
export async function notifyBucket(s3: S3Client, bucket: string, arn: string): Promise<void> {
  const exists = await s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    () => false,
  );
  if (!exists) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: arn, Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }],
      },
    }),
  );
}
