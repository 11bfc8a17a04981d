// A set of 8 drives, the first 4 another node's (served by the storage RPC on a loopback port): a listing reads
// that node's drives with one `dirView` call per directory (their entries merged there, list/dir-view.ts) and no
// per-drive directory reads, and lists exactly what the same drives opened as local folders list (keys, sizes,
// ETags, times, in S3's order), also with a stale copy on a minority of drives, a lost journal, a dead drive, and
// against a node that does not know the call or answers another format (its drives then read one by one).
import { cp, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDrive } from '../../src/storage/drive/local-drive.js';
import type { ErasureObjects } from '../../src/storage/index.js';
import type { PartialView } from '../../src/storage/list/dir-view.js';
import { RemoteDrive, RpcPeer, storageRpcServer } from '../../src/storage/rpc/index.js';
import type { Call, CallOp } from '../../src/storage/rpc/protocol.js';
import { data, drives, open, put } from './helpers.js';

const CREDS = { accessKey: 'viewroot', secretKey: 'view-root-secret' };

/** The other node as this one's client sees it, with the operations it was asked for. */
class CountingPeer extends RpcPeer {
  /** `op path` of each call. */
  ops: string[] = [];
  /** Acts as a node of an older version: it answers dirView as any call it does not know. */
  old = false;
  /** Acts as a node of session 23's version: it answers dirView in the first format (one array per entry). */
  format1 = false;
  override call(c: Call): Promise<unknown> {
    this.ops.push(`${c.o} ${c.p}`);
    if (this.format1 && c.o === 'dirView')
      return super.call(c).then((v) => {
        const view = v as PartialView;
        return { entries: view.names.map((n) => [n, n, 0, '', 4, 0, 0, 0, null]), dead: view.dead, compact: [] };
      });
    return super.call(this.old && c.o === 'dirView' ? { ...c, o: 'dirViewUnknown' as CallOp } : c);
  }
}

let d: Awaited<ReturnType<typeof drives>>;
let server: Server;
let origin: string;
let peer: CountingPeer;
const REMOTE = 4;

/** The set with drives 1-4 through the RPC (and the peer's counts started afresh). */
function openRemote(): Promise<ErasureObjects> {
  peer.ops = [];
  return open(d.paths, {
    setSize: 8,
    openDrive: (path) => {
      const i = d.paths.indexOf(path);
      return i < REMOTE ? new RemoteDrive(`${origin}${path}`, peer, path) : new LocalDrive(path);
    },
  });
}

const KEYS = [
  ...Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`),
  'dir/a',
  'dir/b',
  'dir/sub/c',
  'ünïcødé/日本語',
  `${'L'.repeat(300)}/x`,
  'k'.repeat(600),
  // UTF-16 order puts the first (a surrogate pair, U+1F600) before the second (U+FF21); UTF-8 order, S3's, after.
  'z\u{1F600}',
  'z\uFF21',
];

/** S3's order: UTF-8 bytes. */
const utf8Sorted = (keys: string[]) => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

type Listed = { keys: string[]; prefixes: string[]; meta: string[] };

async function listing(s: ErasureObjects, prefix = '', delimiter?: string): Promise<Listed> {
  const r = await s.listObjects('bkt', { prefix, delimiter, maxKeys: 1000 });
  return {
    keys: r.objects.map((o) => o.key),
    prefixes: r.commonPrefixes,
    meta: r.objects.map((o) => `${o.key} ${o.size} ${o.etag} ${o.lastModified.getTime()}`),
  };
}

/** Every listing this test compares: the whole bucket, and by `/` at the top and in `dir/`. */
async function listings(s: ErasureObjects): Promise<Listed[]> {
  return [await listing(s), await listing(s, '', '/'), await listing(s, 'dir/', '/')];
}

/** The same drives as local folders (the view read drive by drive in this process). */
async function localListings(): Promise<Listed[]> {
  const s = await open(d.paths, { setSize: 8 });
  try {
    return await listings(s);
  } finally {
    await s.close();
  }
}

/** The drive directory reads of the bucket's folders through the RPC. */
const bucketLists = () => peer.ops.filter((o) => o.startsWith('list bkt'));

async function remoteListings(): Promise<Listed[]> {
  const s = await openRemote();
  // The listings' calls only.
  peer.ops = [];
  try {
    return await listings(s);
  } finally {
    await s.close();
  }
}

beforeAll(async () => {
  d = await drives(8);
  for (const p of d.paths) await mkdir(p, { recursive: true });
  const rpc = storageRpcServer({ roots: d.paths.slice(0, REMOTE), credentials: CREDS });
  server = createServer((req, res) => (rpc.matches(req.url ?? '') ? rpc.handle(req, res) : res.end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peer = new CountingPeer(origin, CREDS);
  const s = await openRemote();
  try {
    await s.makeBucket('bkt');
    for (const [i, k] of KEYS.entries()) await put(s, 'bkt', k, data(i % 7 === 0 ? 200 * 1024 : 10 + i));
    // Overwritten: the journals' latest line is the second.
    await put(s, 'bkt', 'k03', data(77));
    // `gone` deleted, then its folder put back on drives 1-3 and 5 (4 of 8, under the write quorum of 5: a stale
    // copy the vote hides); `few` lost from drives 7 and 8 (on 6: listed, 4 of them the other node's).
    await put(s, 'bkt', 'gone', data(5));
    const keep = join(d.root, 'keep');
    const stale = [0, 1, 2, 4];
    for (const i of stale) await cp(join(d.paths[i], 'bkt', 'gone.o'), join(keep, `${i}`), { recursive: true });
    await s.deleteObject('bkt', 'gone');
    for (const i of stale) await cp(join(keep, `${i}`), join(d.paths[i], 'bkt', 'gone.o'), { recursive: true });
    await put(s, 'bkt', 'few', data(6));
    for (const i of [6, 7]) await rm(join(d.paths[i], 'bkt', 'few.o'), { recursive: true });
  } finally {
    await s.close();
  }
}, 60_000);

afterAll(async () => {
  peer?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await d?.cleanup();
});

describe("another node's drives of a set", () => {
  it('are read with one dirView call per directory, and list what local drives list', async () => {
    const local = await localListings();
    expect(local[0].keys).toHaveLength(KEYS.length + 1);
    expect(local[0].keys).toContain('few');
    expect(local[0].keys).not.toContain('gone');
    expect(local[1].prefixes).toEqual([`${'L'.repeat(300)}/`, 'dir/', 'ünïcødé/']);
    expect(local[0].keys).toEqual(utf8Sorted(local[0].keys));
    expect(local[0].keys.indexOf('z\uFF21')).toBe(local[0].keys.indexOf('z\u{1F600}') - 1);
    const remote = await remoteListings();
    expect(remote).toEqual(local);
    // Three directories listed (the bucket, dir/, and for the whole listing dir/sub/, L.../, ünïcødé/): never a
    // directory of a drive through the RPC, one dirView for the node's four drives each time.
    expect(bucketLists()).toEqual([]);
    expect(peer.ops.filter((o) => o.startsWith('dirView ')).length).toBeGreaterThanOrEqual(3);
  });

  it('list the same with a lost journal, a stale drive and a dead drive', async () => {
    // Drive 1 (a journal the listing reads) loses the bucket's journal; drive 3 misses k10; drive 2 is gone.
    await rm(join(d.paths[0], 'bkt', '_idx'));
    await rm(join(d.paths[2], 'bkt', 'k10.o'), { recursive: true });
    await rm(join(d.paths[1], 'bkt'), { recursive: true });
    const local = await localListings();
    expect(local[0].keys).toHaveLength(KEYS.length + 1);
    expect(await remoteListings()).toEqual(local);
    expect(bucketLists()).toEqual([]);
  });

  it('of a node that does not know dirView are read one by one, and list the same', async () => {
    const local = await localListings();
    peer.old = true;
    try {
      expect(await remoteListings()).toEqual(local);
      expect(bucketLists().length).toBeGreaterThan(0);
    } finally {
      peer.old = false;
    }
  });

  it('of a node that answers dirView in another format are read one by one, and list the same', async () => {
    const local = await localListings();
    peer.format1 = true;
    try {
      expect(await remoteListings()).toEqual(local);
      expect(peer.ops.filter((o) => o.startsWith('dirView ')).length).toBeGreaterThan(0);
      expect(bucketLists().length).toBeGreaterThan(0);
    } finally {
      peer.format1 = false;
    }
  });

  it('refuses a dirView that names a drive it does not serve, or a path leaving the drive', async () => {
    const view = (c: Partial<Call>) =>
      peer.call({ o: 'dirView', d: d.paths[0], p: 'bkt', q: 'bkt', k: '', ds: [d.paths[0]], js: [true], n: 2, ...c });
    const ok = (await view({})) as PartialView;
    expect(ok.dead).toEqual([0]);
    expect(ok.names.length).toBeGreaterThan(KEYS.length / 2);
    // Sorted in S3's order, 4 bytes of counts per entry, a latest version per entry flagged so (bit 4).
    expect(ok.names).toEqual(utf8Sorted(ok.names));
    expect(ok.hi).toBe(1);
    expect(ok.counts.length).toBe(ok.names.length * 4);
    const flagged = ok.names.filter((_, i) => (ok.counts[i * 4] & 4) !== 0).length;
    expect([ok.s.length, ok.e.length, ok.m.length, ok.v.length, ok.c.length]).toEqual(Array(5).fill(flagged));
    expect(flagged).toBeGreaterThan(0);
    // A folder not served: that drive says nothing (as a dead drive), the others answer.
    const mixed = (await view({ ds: [d.paths[0], d.paths[5]], js: [false, false] })) as PartialView;
    expect(mixed.dead).toEqual([0, 1]);
    // (n: the answer's format; a caller of another version, which asks for another or none, is refused too)
    for (const bad of [
      { p: '../x' },
      { q: '/etc' },
      { ds: [] },
      { js: [] },
      { k: 'x'.repeat(5000) },
      { n: 1 },
      { n: undefined },
    ])
      await expect(view(bad)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
