// Streams a GET body whose chunks come from the storage engine's buffer pool. Fastify's own stream
// sending (pipe) never says when the socket is done with a chunk; here each write's callback gives the
// chunk back (`recycle`), so big reads reuse memory instead of churning the GC (see buffer-pool.ts).
// Backpressure as pipe does it: stop reading when the socket's buffer is full, resume on 'drain'.
// A body that can splice (the S3 gateway's, from its backend's plain socket: SplicingBody) going to a plain
// socket sends its rest from socket to socket inside the kernel instead, once what it read already is written;
// the body is told whether the client is on this host (it splices to those only when told to: SpliceMode).
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { FastifyReply } from 'fastify';
import type { PushingBody, RecyclingBody, SpliceHandOver, SplicingBody } from '../api/index.js';

type RecyclingStream = Readable & RecyclingBody;

/** At most this many bytes wait on a corked socket for their writev (a read batch: 4 blocks of 1 MiB). */
const CORK_BYTES = 4 * 1024 * 1024;

/**
 * A pushing body (pushTo) waits for the socket's 'drain' only once this much is queued on it: a wait after each
 * 256 KiB write (the socket's own high-water mark is lower) would stop and restart the backend socket's reading
 * per chunk. The same as the gateway's Readable held ahead before (4 reads).
 */
const PUSH_AHEAD = 1024 * 1024;

export function isRecycling(body: unknown): body is RecyclingStream {
  return (
    typeof (body as Partial<RecyclingBody> | null)?.recycle === 'function' &&
    typeof (body as Readable).pipe === 'function'
  );
}

export function sendRecycling(reply: FastifyReply, body: RecyclingStream): void {
  const res = reply.raw;
  reply.hijack(); // fastify's onResponse hooks and request log still run on 'finish'
  const headers = reply.getHeaders();
  res.writeHead(reply.statusCode, headers as OutgoingHttpHeaders);
  // Raw bytes on the socket need an answer framed by its Content-Length (not chunked).
  const framed = headers['content-length'] !== undefined && headers['transfer-encoding'] === undefined;
  const fd = framed ? plainSocketFd(res.socket) : undefined;
  const handOver =
    fd === undefined ? undefined : (body as Partial<SplicingBody>).spliceInto?.({ local: onThisHost(res.socket!) });
  if (fd !== undefined && handOver) return sendSpliced(reply, body, handOver, fd);
  if (framed && (body as Partial<PushingBody>).pushTo && sendPushed(reply, body as RecyclingStream & PushingBody))
    return;
  // Chunks written and not yet done with, in order (a socket calls its write callbacks in order): one callback
  // for them all rather than a closure per chunk. On error the socket may still hold them: left to the GC.
  const pending: Buffer[] = [];
  const written = (err?: Error | null) => {
    const chunk = pending.shift();
    if (!err && chunk) body.recycle(chunk);
  };
  const resume = () => body.resume();
  // A body framed by its Content-Length: after the first chunk (written with the answer's head through the
  // response), the chunks go to the socket itself, skipping the response's cork and uncork on the next tick per
  // chunk (which made each one a writev of one buffer). Chunked answers need the response's framing.
  // On the socket, the chunks that arrive in one turn (a read batch's pieces: 512 KiB views of each data
  // shard's buffer, 8 to a batch) go out corked, as one writev on the next tick (or once CORK_BYTES are
  // held) instead of a write(2) and its stream bookkeeping each; backpressure is judged after the writev.
  let socket: Socket | null = null;
  let corked = 0; // bytes written to the corked socket, not yet uncorked
  const flush = () => {
    if (corked === 0 || !socket) return;
    corked = 0;
    socket.uncork();
    // Only a socket that will emit 'drain' is waited for: a TLS socket can hold a few bytes after the uncork
    // without being full (its writableLength > 0, no 'drain' to come), which hung a GET's small last chunk.
    if (socket.writableNeedDrain && !socket.destroyed) {
      body.pause();
      socket.once('drain', resume);
    }
  };
  body.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    if (socket && !socket.destroyed) {
      if (corked === 0) {
        socket.cork();
        process.nextTick(flush);
      }
      corked += chunk.length;
      socket.write(chunk, written); // false while corked: the writev's outcome decides (flush)
      if (corked >= CORK_BYTES) flush();
      return;
    }
    if (!res.write(chunk, written)) body.pause();
    if (framed && !res.destroyed) socket = res.socket;
  });
  res.on('drain', resume);
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

/**
 * A body framed by its Content-Length whose chunks are pushed (PushingBody: the S3 gateway's backend reads):
 * each goes to the socket as it arrives, the first with the answer's head through the response, the rest to
 * the socket itself (as above). False, and nothing done, when the body cannot push: it is read as a stream.
 */
function sendPushed(reply: FastifyReply, body: RecyclingStream & PushingBody): boolean {
  const res = reply.raw;
  const pending: Buffer[] = [];
  const written = (err?: Error | null) => {
    const chunk = pending.shift();
    if (!err && chunk) body.recycle(chunk);
  };
  let socket: Socket | null = null;
  let waiting = false;
  let ended = false;
  let control: { resume(): void } | undefined;
  const resume = () => {
    waiting = false;
    control?.resume();
  };
  control = body.pushTo({
    write(chunk) {
      pending.push(chunk);
      if (!socket) {
        res.write(chunk, written);
        if (res.destroyed) return false; // its 'close' below lets the body go
        socket = res.socket;
        return true;
      }
      if (socket.write(chunk, written) || socket.writableLength < PUSH_AHEAD) return true;
      if (!waiting && !socket.destroyed) {
        waiting = true;
        socket.once('drain', resume);
      }
      return false;
    },
    end() {
      ended = true;
      res.end();
    },
    // A read failing after the headers went out can only cut the connection (the length will not match).
    fail(err) {
      reply.log.warn({ err }, 'object read failed while sending');
      res.destroy(err);
    },
  });
  if (!control) return false;
  res.once('close', () => {
    if (!ended) body.destroy();
  });
  return true;
}

/** The descriptor of a plain (not TLS) TCP socket that node still holds, for a splice; else undefined. */
function plainSocketFd(socket: Socket | null): number | undefined {
  if (!socket || socket.destroyed || (socket as TLSSocket).encrypted) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * The socket's peer is on this host: a loopback address (127.0.0.0/8, ::1, either IPv4-mapped) or the address
 * the socket itself has (a client reaching one of the host's own addresses). Another address of this host
 * than the one connected to is not seen (the kernel picks the connected address as the source).
 */
export function onThisHost(socket: { remoteAddress?: string; localAddress?: string }): boolean {
  const peer = unmapped(socket.remoteAddress);
  if (!peer) return true; // no address (a socket already closed): nothing to decide on
  return peer === unmapped(socket.localAddress) || peer === '::1' || /^127\.\d+\.\d+\.\d+$/.test(peer);
}

const unmapped = (a: string | undefined) => (a?.toLowerCase().startsWith('::ffff:') ? a.slice(7) : a);

/**
 * The chunks the body read before the hand-over go through node (the answer's head with the first); once
 * the socket has handed them all to the kernel, the rest moves from the backend's socket into `fd` there.
 * Then the answer ends as any other; a failure on either side cuts the connection (the length will not match).
 */
function sendSpliced(reply: FastifyReply, body: RecyclingStream, h: SpliceHandOver, fd: number): void {
  const res = reply.raw;
  let started = false;
  body.on('error', () => undefined); // a failed splice rejects run() below, where it is logged
  res.once('close', () => {
    if (!started) h.cancel();
  });
  const chunks = h.buffered.length > 0 ? h.buffered : [Buffer.alloc(0)];
  const last = chunks.length - 1;
  chunks.forEach((chunk, i) =>
    res.write(chunk, (err?: Error | null) => {
      if (err) return;
      body.recycle(chunk);
      if (i === last) afterWritten();
    }),
  );
  function afterWritten(): void {
    const socket = res.socket;
    if (res.destroyed || !socket || socket.destroyed) return;
    if (socket.writableLength > 0) return void socket.once('drain', afterWritten);
    started = true;
    h.run(fd).then(
      () => res.end(),
      (err: unknown) => {
        // A client that went away is no failure of the server's (as a destroyed response is not on the other path).
        const gone = ['EPIPE', 'ECONNRESET'].includes((err as NodeJS.ErrnoException).code ?? '');
        if (gone) reply.log.debug({ err }, 'client went away during an object splice');
        else reply.log.warn({ err }, 'object splice failed while sending');
        res.destroy(err as Error);
      },
    );
  }
}
