// through(src, decoder): the body decoders' connection to the request stream. Errors of either end up on the
// decoder (what storage reads) and destroy the other; a request that ends early is an error, not a short
// body; a decoder that fails destroys the request but keeps its socket for the answer (as pipeline did).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable, Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { through } from '../../src/http/body.js';

const failAt = (n: number) =>
  new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n -= chunk.length;
      cb(n < 0 ? new Error('bad chunk') : null, chunk);
    },
  });

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('through', () => {
  it('passes every byte and ends', async () => {
    const src = Readable.from([Buffer.from('ab'), Buffer.from('cd')]);
    expect((await drain(through(src, new PassThrough()))).toString()).toBe('abcd');
  });

  it("puts the source's error on the decoder", async () => {
    const src = new PassThrough();
    const out = through(src, new PassThrough());
    src.write('partial');
    src.destroy(new Error('socket reset'));
    await expect(drain(out)).rejects.toThrow('socket reset');
  });

  it('makes a source closed before its end an error (a client that hung up), not a short body', async () => {
    const src = new PassThrough();
    const out = through(src, new PassThrough());
    src.write('partial');
    src.destroy();
    await expect(drain(out)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it("destroys the source on the decoder's error", async () => {
    const src = new PassThrough();
    const out = through(src, failAt(3));
    src.write('12345');
    await expect(drain(out)).rejects.toThrow('bad chunk');
    expect(src.destroyed).toBe(true);
  });

  it("keeps the request's socket for the answer when the decoder fails", async () => {
    const server = http.createServer((req, res) => {
      drain(through(req, failAt(10))).catch((e: Error) => {
        expect(req.destroyed).toBe(true);
        res.writeHead(400, { connection: 'close' }).end(e.message);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', method: 'PUT', path: '/' }, (res) => {
          drain(res).then((b) => resolve({ status: res.statusCode!, body: b.toString() }), reject);
        });
        req.on('error', reject);
        req.end(Buffer.alloc(100, 1));
      });
      expect(answer).toEqual({ status: 400, body: 'bad chunk' });
    } finally {
      server.close();
    }
  });
});
