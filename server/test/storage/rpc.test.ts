// The storage RPC's pieces against a real node:http server on a loopback port: tokens (expiry, another secret),
// the bounds on paths and sizes, batching, streaming shard writes (a body written in 1 MiB pieces, with
// backpressure) and reads, and a node that never answers.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type ClientRequest, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeCodec } from '../../src/storage/erasure/codec.js';
import { RemoteDrive, remoteDrives, RpcPeer, storageRpcServer } from '../../src/storage/rpc/index.js';
import { MAX_BATCH_CALLS, MAX_SHARD_READ } from '../../src/storage/rpc/protocol.js';
import { receive } from '../../src/storage/rpc/serve.js';
import { TOKEN_TTL_MS, TokenCheck, TokenSource } from '../../src/storage/rpc/token.js';

const CREDS = { accessKey: 'rpcroot', secretKey: 'rpc-root-secret' };

describe('tokens', () => {
  it('are accepted until they expire, and only with the same credentials', () => {
    let now = 1_000_000;
    const token = new TokenSource(CREDS, () => now).token();
    const check = new TokenCheck(CREDS, () => now);
    expect(check.valid(token)).toBe(true);
    expect(new TokenCheck({ ...CREDS, secretKey: 'other' }, () => now).valid(token)).toBe(false);
    expect(new TokenCheck({ ...CREDS, accessKey: 'other' }, () => now).valid(token)).toBe(false);
    expect(check.valid(`${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`)).toBe(false);
    // A later expiry with the old MAC: refused.
    const [expiry, mac] = token.split('.');
    expect(check.valid(`${Number(expiry) + 1}.${mac}`)).toBe(false);
    expect(check.valid(undefined)).toBe(false);
    expect(check.valid('garbage')).toBe(false);
    now += TOKEN_TTL_MS;
    expect(check.valid(token)).toBe(false);
  });

  it('are minted again once half of their life has passed', () => {
    let now = 5_000_000;
    const source = new TokenSource(CREDS, () => now);
    const first = source.token();
    now += TOKEN_TTL_MS / 2 - 1;
    expect(source.token()).toBe(first);
    now += 1;
    expect(source.token()).not.toBe(first);
  });
});

describe('a node serving a drive', () => {
  let dir: string;
  let server: Server;
  let origin: string;
  let peer: RpcPeer;
  let drive: RemoteDrive;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-rpc-unit-'));
    const rpc = storageRpcServer({ roots: [join(dir, 'd')], credentials: CREDS, verify: nativeCodec().readFrames });
    server = createServer((req, res) => (rpc.matches(req.url ?? '') ? rpc.handle(req, res) : res.end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    peer = new RpcPeer(origin, CREDS);
    drive = new RemoteDrive(`${origin}${join(dir, 'd')}`, peer, join(dir, 'd'));
    await drive.mkdirs('.cairn.sys/tmp');
  });
  afterAll(async () => {
    peer.close();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers whole-file calls as a local drive does, errors with their codes', async () => {
    await drive.writeAtomic('a/b/meta', 'hello');
    expect((await drive.read('a/b/meta'))?.toString()).toBe('hello');
    expect(await drive.read('a/nothing')).toBeNull();
    expect(await drive.stat('a/b/meta')).toMatchObject({ size: 5 });
    expect(await drive.list('a')).toEqual(['b']);
    expect(await drive.list('none')).toBeNull();
    expect(await drive.append('a/log', 'x\n')).toBe(true);
    expect(await drive.append('a/log', 'y\n', true)).toBe(true);
    expect(await drive.replaceLog('a/log', 'z\n', 2)).toEqual(Buffer.from('y\n'));
    expect(await readFile(join(dir, 'd', 'a/log'), 'utf8')).toBe('z\n');
    await expect(drive.renameInto('a/none', 'a/other')).rejects.toMatchObject({ code: 'ENOENT' });
    // `fresh` reaches the serving node: the folder is made before the rename (a file in its way fails the mkdir).
    await drive.writeAtomic('f/g/meta', 'new', { fresh: true });
    expect(await readFile(join(dir, 'd', 'f/g/meta'), 'utf8')).toBe('new');
    await expect(drive.writeAtomic('a/log/meta', 'x', { fresh: true })).rejects.toMatchObject({ syscall: 'mkdir' });
    await expect(drive.writeAtomic('a/log/meta', 'x')).rejects.toMatchObject({ code: 'ENOTDIR', syscall: 'rename' });
    await drive.writeAtomic('.cairn.sys/tmp/moved', 'm');
    await expect(drive.renameInto('.cairn.sys/tmp/moved', 'a/log/x/moved', true)).rejects.toMatchObject({
      syscall: 'mkdir',
    });
    await drive.renameInto('.cairn.sys/tmp/moved', 'h/i/moved', true);
    expect(await readFile(join(dir, 'd', 'h/i/moved'), 'utf8')).toBe('m');
    expect((await drive.diskInfo()).totalBytes).toBeGreaterThan(0);
    expect(await drive.probe()).toBe('ok');
  });

  it('keeps readCached bytes while the file is unchanged, and sees a change', async () => {
    await writeFile(join(dir, 'd', 'cached'), 'one');
    // Old enough to be kept (readCached keeps files whose ctime has settled).
    await new Promise((r) => setTimeout(r, 60));
    expect((await drive.readCached('cached'))?.toString()).toBe('one');
    const kept = await drive.readCached('cached');
    expect(await drive.readCached('cached')).toBe(kept); // the same Buffer: answered from the cache
    await writeFile(join(dir, 'd', 'cached'), 'two!');
    expect((await drive.readCached('cached'))?.toString()).toBe('two!');
  });

  it('refuses paths leaving the drive and drives it does not serve', async () => {
    await expect(drive.read('../outside')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(drive.read('a/../../outside')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(drive.read('/etc/passwd')).rejects.toMatchObject({ code: 'EINVAL' });
    const other = new RemoteDrive(`${origin}/tmp`, peer, '/tmp');
    await expect(other.read('x')).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('batches the calls of one turn of the event loop, and bounds a batch', async () => {
    const names = Array.from({ length: 3 * MAX_BATCH_CALLS + 5 }, (_, i) => `many/f${i}`);
    await drive.mkdirs('many');
    await Promise.all(names.map((n) => drive.writeAtomic(n, n)));
    const back = await Promise.all(names.map((n) => drive.read(n)));
    expect(back.map((b) => b?.toString())).toEqual(names);
    // A batch longer than the limit, sent by hand: refused whole.
    const calls = Array.from({ length: MAX_BATCH_CALLS + 1 }, () => ({ o: 'stat', d: join(dir, 'd'), p: 'x' }));
    const res = await peer.exchange('POST', '/call', pack(calls));
    res.resume();
    expect(res.statusCode).toBe(400);
    const big = await peer.exchange(
      'GET',
      `/shard?d=${encodeURIComponent(join(dir, 'd'))}&p=x&pos=0&len=${MAX_SHARD_READ + 1}`,
    );
    big.resume();
    expect(big.statusCode).toBe(413);
  });

  it('streams a shard file in and reads ranges of it back, verified by the serving node', async () => {
    const codec = nativeCodec();
    const block = Buffer.alloc(1024 * 1024, 7);
    const frames = (await codec.upload(null).encode([block], 2, 2)).map((f) => Buffer.from(f));
    const sink = await drive.createShard('obj/dd/part.1');
    for (let i = 0; i < 8; i++) await sink.write([frames[0]]);
    await sink.close();
    const size = (await stat(join(dir, 'd', 'obj/dd/part.1'))).size;
    expect(size).toBe(8 * frames[0].length);
    const src = drive.openShard('obj/dd/part.1', codec.readFrames);
    const r = await src.readFrames!(frames[0].length, 2 * frames[0].length, frames[0].length);
    expect(r.bad).toBe(0);
    expect(r.buf.equals(Buffer.concat([frames[0], frames[0]]))).toBe(true);
    await expect(src.read(size - 10, 20)).rejects.toThrow(/too short/);
    // A flipped byte: the serving node's check counts the bad frame.
    const onDisk = await readFile(join(dir, 'd', 'obj/dd/part.1'));
    onDisk[frames[0].length + 100] ^= 1;
    await writeFile(join(dir, 'd', 'obj/dd/part.1'), onDisk);
    expect((await src.readFrames!(0, 2 * frames[0].length, frames[0].length)).bad).toBe(1);
  });

  it('a shard write the node refuses fails the writer', async () => {
    await writeFile(join(dir, 'd', 'file'), 'x');
    const sink = await drive.createShard('file/part.1'); // its parent is a file: ENOTDIR or EEXIST there
    await expect(
      (async () => {
        await sink.write([Buffer.alloc(1024)]);
        await sink.close();
      })(),
    ).rejects.toHaveProperty('code');
  });
});

describe('a node that does not answer', () => {
  it('fails calls with ETIMEDOUT (a hung drive), and a refused connection with its code', async () => {
    const silent = createServer(() => {}); // takes requests, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const peer = new RpcPeer(`http://127.0.0.1:${port}`, CREDS, 300);
    const d = new RemoteDrive(`http://127.0.0.1:${port}/x`, peer, '/x');
    await expect(d.read('a')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(await d.probe()).toBe('failed');
    expect(d.lastError).toBe('ETIMEDOUT');
    peer.close();
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
    const gone = remoteDrives(CREDS).open(`http://127.0.0.1:${port}/x`);
    await expect(gone.read('a')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe("a shard upload's body on the serving node (receive)", () => {
  const MiB = 1024 * 1024;
  let server: Server;
  let port: number;
  /** What the handler of the next request does with it. */
  let handle: (req: IncomingMessage) => Promise<void>;

  beforeAll(async () => {
    server = createServer((req, res) => {
      void handle(req).then(
        () => res.end('ok'),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** PUTs `body` in 64 KiB writes (chunked; `cutAfter`: the connection is cut after that many bytes). */
  const upload = (body: Buffer, cutAfter?: number): ClientRequest => {
    // (a connection of its own: the socket's bytesRead counts this upload only)
    const req = httpRequest({ port, host: '127.0.0.1', method: 'PUT', path: '/', agent: false });
    req.on('error', () => {});
    (async () => {
      for (let at = 0; at < body.length; at += 64 * 1024) {
        if (cutAfter !== undefined && at >= cutAfter) return void req.destroy();
        if (!req.write(body.subarray(at, at + 64 * 1024))) await once(req, 'drain');
      }
      req.end();
    })().catch(() => {}); // (the server answered early: the test checks its answer)
    return req;
  };
  const answer = (req: ClientRequest) =>
    new Promise<number>((resolve) =>
      req.once('response', (res) => res.resume().once('end', () => resolve(res.statusCode!))),
    );

  it('writes it in pieces of 1 MiB, in order (one writev each, not one write per socket read)', async () => {
    const body = randomBytes(3 * MiB + 512 * 1024 + 7);
    const writes: Buffer[] = [];
    handle = (req) => receive(req, async (bufs) => void writes.push(Buffer.concat(bufs)));
    expect(await answer(upload(body))).toBe(200);
    expect(Buffer.concat(writes).equals(body)).toBe(true);
    expect(writes.length).toBe(4);
    for (const w of writes.slice(0, -1)) expect(w.length).toBeGreaterThanOrEqual(MiB);
  });

  it('reads no more of the socket while a write is under way and 1 MiB more is held', async () => {
    const body = randomBytes(24 * MiB);
    const writes: Buffer[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let socket: Socket | undefined;
    handle = (req) => {
      socket = req.socket;
      return receive(req, async (bufs) => {
        writes.push(Buffer.concat(bufs));
        await released;
      });
    };
    const client = upload(body);
    // Until the server's reads stop growing (the client's writes then wait for the kernel's buffers to drain).
    let seen = -1;
    for (let still = 0; still < 5; ) {
      await new Promise((r) => setTimeout(r, 40));
      const now = socket?.bytesRead ?? 0;
      still = now === seen && writes.length > 0 ? still + 1 : 0;
      seen = now;
    }
    expect(writes.length).toBe(1);
    expect(seen).toBeLessThan(3 * MiB);
    release();
    expect(await answer(client)).toBe(200);
    expect(Buffer.concat(writes).equals(body)).toBe(true);
  });

  it('ends when the connection is cut, after the write under way, with the request incomplete', async () => {
    let complete: boolean | undefined;
    const writes: number[] = [];
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    handle = async (req) => {
      await receive(req, async (bufs) => {
        await new Promise((r) => setImmediate(r));
        writes.push(bufs.reduce((n, b) => n + b.length, 0));
      });
      complete = req.complete;
      ended();
    };
    upload(randomBytes(4 * MiB), 2 * MiB);
    await done;
    expect(complete).toBe(false);
    expect(writes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * MiB);
  });

  it('fails with the error of a write that fails', async () => {
    handle = (req) =>
      receive(req, async () => {
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      });
    const client = upload(randomBytes(2 * MiB));
    expect(await answer(client)).toBe(500);
  });
});
