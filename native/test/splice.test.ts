// spliceSockets' idle check (splice.rs `transfer`): a transfer ends as idle only when neither socket moved for the
// idle time. A client that reads slowly but steadily must get the whole body even when its socket takes longer
// than the idle time to come writable again (POLLOUT needs about a third of the send buffer free); one that
// stops reading is still cut after the idle time. Real loopback TCP sockets from node; the addon works on their
// descriptors (what the S3 gateway hands it: http1.ts, http/send-body.ts).
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canSplice, spliceSockets } from '../index.js';

const IDLE_MS = 150;
const BODY = 6 * 1024 * 1024;

/** A node socket's descriptor. */
function fdOf(s: Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no descriptor');
  return fd;
}

let server: Server;
const accepted: Socket[] = [];
const waiting: ((s: Socket) => void)[] = [];

beforeAll(async () => {
  // pauseOnConnect: node never reads the accepted side, so the addon is its only reader.
  server = createServer({ pauseOnConnect: true }, (s) => {
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
afterAll(async () => {
  server?.close();
});

/** A connected pair: [node's client end, the accepted end node does not read]. */
async function pair(): Promise<[Socket, Socket]> {
  const got = new Promise<Socket>((r) => {
    const s = accepted.shift();
    if (s) r(s);
    else waiting.push(r);
  });
  const { port } = server.address() as { port: number };
  const c = connect(port, '127.0.0.1');
  await once(c, 'connect');
  return [c, await got];
}

/**
 * A source holding `BODY` bytes, a destination, and a reader on the destination's far end that takes `step`
 * bytes every `everyMs` (ms) until `stopAfter` bytes, then stops reading. Returns the splice's outcome and the
 * bytes the reader got.
 */
async function run(step: number, everyMs: number, stopAfter = Number.POSITIVE_INFINITY) {
  const [writer, from] = await pair();
  const [reader, to] = await pair();
  reader.pause();
  const body = Buffer.alloc(BODY);
  for (let i = 0; i < BODY; i += 4) body.writeUInt32LE(i, i);
  writer.end(body);
  let got = 0;
  let bad = false;
  const timer = setInterval(() => {
    if (got >= stopAfter) return;
    for (let want = step; want > 0; ) {
      const c: Buffer | null = reader.read();
      if (c === null) break;
      // The byte at offset o is part of the little-endian word o & ~3.
      for (let i = 0; i < c.length; i += 4099) {
        const o = got + i;
        if (c[i] !== (((o & ~3) >>> ((o & 3) * 8)) & 0xff)) bad = true;
      }
      got += c.length;
      want -= c.length;
    }
  }, everyMs);
  const outcome = await spliceSockets(fdOf(from), fdOf(to), BODY, IDLE_MS).then(
    (n) => ({ n }),
    (e: Error & { code?: string }) => ({ error: e.code }),
  );
  to.destroy();
  from.destroy();
  writer.destroy();
  // What the kernel still holds for the reader once the sender closed.
  if (got < stopAfter && !('error' in outcome)) {
    reader.resume();
    reader.on('data', (c: Buffer) => {
      got += c.length;
    });
    await once(reader, 'close');
  }
  clearInterval(timer);
  reader.destroy();
  return { outcome, got, bad };
}

describe.runIf(canSplice)('spliceSockets idle check', () => {
  it('a slow but steady reader gets the whole body though its socket stays unwritable longer than the idle time', async () => {
    const { outcome, got, bad } = await run(64 * 1024, 20);
    expect(outcome).toEqual({ n: BODY });
    expect(got).toBe(BODY);
    expect(bad).toBe(false);
  });

  it('a reader that stops is cut after the idle time', async () => {
    const started = Date.now();
    const { outcome, got } = await run(64 * 1024, 20, 1024 * 1024);
    expect(outcome).toEqual({ error: 'ETIMEDOUT' });
    expect(got).toBeLessThan(BODY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS);
  });
});
