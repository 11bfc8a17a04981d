// Shard reads of the storage RPC (storage/rpc/serve.ts) go into buffers the serving node keeps between requests:
// reads of the same size from different files, many in flight at once and larger than a socket's buffer, each
// answer its own file's bytes (a buffer is used again only once its answer went out), also after a read that
// failed, and a client that goes away in the middle of an answer leaves the next answers whole.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nativeCodec } from '../../src/storage/erasure/codec.js';
import { RemoteDrive, RpcPeer, storageRpcServer } from '../../src/storage/rpc/index.js';
import { RPC_PREFIX } from '../../src/storage/rpc/protocol.js';
import { TokenSource } from '../../src/storage/rpc/token.js';

const CREDS = { accessKey: 'rpcroot', secretKey: 'rpc-root-secret' };
/** 4 MiB each: far more than a loopback socket takes at once, so an answer is written over many turns. */
const SIZE = 4 * 1024 * 1024;

let dir: string;
let server: Server;
let origin: string;
let peer: RpcPeer;
let drive: RemoteDrive;
const files = ['a', 'b', 'c'].map((name, i) => ({
  rel: `obj/dd/${name}`,
  bytes: Buffer.from(Array.from({ length: SIZE }, (_, j) => (i * 89 + j * 7 + (j >> 12)) & 0xff)),
}));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-rpc-reads-'));
  const rpc = storageRpcServer({ roots: [join(dir, 'd')], credentials: CREDS, verify: nativeCodec().readFrames });
  server = createServer((req, res) => (rpc.matches(req.url ?? '') ? rpc.handle(req, res) : res.end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peer = new RpcPeer(origin, CREDS);
  drive = new RemoteDrive(`${origin}${join(dir, 'd')}`, peer, join(dir, 'd'));
  await drive.mkdirs('obj/dd');
  for (const f of files) await writeFile(join(dir, 'd', f.rel), f.bytes);
});

afterAll(async () => {
  peer.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

/** `len` bytes of file `i` from `pos`, through the RPC; true when they are the file's. */
async function readsRight(i: number, pos: number, len: number): Promise<boolean> {
  const got = await drive.openShard(files[i].rel).read(pos, len);
  return got.equals(files[i].bytes.subarray(pos, pos + len));
}

it('reads of one size from several files, many at once, each answer their own bytes', async () => {
  for (let round = 0; round < 3; round++) {
    const reads = Array.from({ length: 12 }, (_, k) => readsRight(k % 3, 0, SIZE));
    // Other sizes in between (their own buffers), and a range of each file.
    reads.push(readsRight(1, 1000, SIZE - 1000), readsRight(2, SIZE / 2, SIZE / 4));
    expect(await Promise.all(reads)).toEqual(reads.map(() => true));
  }
});

it('a failed read (a file too short) and a client gone mid-answer leave the next reads whole', async () => {
  await expect(drive.openShard(files[0].rel).read(SIZE - 10, SIZE)).rejects.toThrow(/too short/);
  // A raw read whose client stops reading after the first bytes and closes the connection.
  const token = new TokenSource(CREDS).token();
  const q = `d=${encodeURIComponent(join(dir, 'd'))}&p=${encodeURIComponent(files[1].rel)}&pos=0&len=${SIZE}`;
  await new Promise<void>((resolve, reject) => {
    const req = request(`${origin}${RPC_PREFIX}/shard?${q}`, { headers: { authorization: `Bearer ${token}` } });
    req.on('response', (res) => {
      res.once('data', () => {
        res.destroy();
        req.destroy();
        resolve();
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
    req.end();
  });
  const reads = Array.from({ length: 9 }, (_, k) => readsRight(k % 3, 0, SIZE));
  expect(await Promise.all(reads)).toEqual(reads.map(() => true));
});
