// Streams a GET body whose chunks come from the storage engine's buffer pool. Fastify's own stream
// sending (pipe) never says when the socket is done with a chunk; here each write's callback gives the
// chunk back (`recycle`), so big reads reuse memory instead of churning the GC (see buffer-pool.ts).
// Backpressure as pipe does it: stop reading when the socket's buffer is full, resume on 'drain'.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { RecyclingBody } from '../api/index.js';

type RecyclingStream = Readable & RecyclingBody;

export function isRecycling(body: unknown): body is RecyclingStream {
  return (
    typeof (body as Partial<RecyclingBody> | null)?.recycle === 'function' &&
    typeof (body as Readable).pipe === 'function'
  );
}

export function sendRecycling(reply: FastifyReply, body: RecyclingStream): void {
  const res = reply.raw;
  reply.hijack(); // fastify's onResponse hooks and request log still run on 'finish'
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  const done = (chunk: Buffer) => (err?: Error | null) => {
    if (!err) body.recycle(chunk); // on error the socket may still hold it: leave it to the GC
  };
  body.on('data', (chunk: Buffer) => {
    if (!res.write(chunk, done(chunk))) body.pause();
  });
  res.on('drain', () => body.resume());
  body.once('end', () => res.end());
  // A read failing after the headers went out can only cut the connection (the length will not match).
  body.once('error', (err) => {
    reply.log.warn({ err }, 'object read failed while sending');
    res.destroy(err);
  });
  res.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
}
