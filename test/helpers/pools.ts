// Server pools on this machine for the tests (test/s3/pools, decommission, pool-list): pool N is `BASE/pN/d{1...4}`,
// a server is started (in this process, or as the `cairn` command) over the pools listed, restarted on other lists,
// and objects are found on the drives by their `meta` files. Bodies are compared by digest.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { decodeAcks, parseName } from '../../server/src/api/notify/segment.js';
import type { AdminTarget } from '../../server/src/cli/admin-client.js';
import { type CairnServer, type ServerOptions, startServer } from '../../server/src/main.js';
import { makeClient, ROOT } from './cairn.js';
import { spawnCairn } from './cli.js';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class PoolsFixture {
  server?: CairnServer;
  s3!: S3Client;
  admin!: AdminTarget;
  private extra: Partial<ServerOptions> = {};

  private constructor(readonly base: string) {}

  static async make(prefix: string): Promise<PoolsFixture> {
    return new PoolsFixture(await mkdtemp(join(tmpdir(), prefix)));
  }

  /** Pool n's argument: `BASE/pN/d{1...4}`. */
  arg(n: number): string {
    return join(this.base, `p${n}`, 'd{1...4}');
  }

  /**
   * Starts a server over the pools listed (in that order), with clients for it; the one running is closed first.
   * `extra`: more server options (notification targets, ...), kept for the next starts.
   */
  async start(pools: number[], extra?: Partial<ServerOptions>): Promise<CairnServer> {
    await this.stop();
    if (extra) this.extra = extra;
    this.server = await startServer({
      address: '127.0.0.1:0',
      credentials: { root: ROOT, users: [] },
      storage: { background: false },
      shutdownGraceMs: 2000,
      ...this.extra,
      drives: pools.map((n) => this.arg(n)),
    });
    this.s3 = makeClient(this.server.url);
    this.admin = { endpoint: this.server.url, region: 'us-east-1', ...ROOT };
    return this.server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }

  /** Runs `cairn server` over the pools listed until it exits (a refused start): its exit code and stderr. */
  refusedCommand(pools: number[], workers: number): Promise<{ code: number | null; stderr: string }> {
    const child = spawnCairn(
      ['server', '--address', '127.0.0.1:0', '--workers', String(workers), ...pools.map((n) => this.arg(n))],
      {
        CAIRN_ROOT_USER: ROOT.accessKey,
        CAIRN_ROOT_PASSWORD: ROOT.secretKey,
      },
    );
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    child.stdout!.resume();
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  }

  async digestOf(bucket: string, key: string, versionId?: string): Promise<string> {
    const r = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return sha256(await r.Body!.transformToByteArray());
  }

  /** The path of `key`'s metadata on drive 1 of pool n (`a/b` is `a.d/b.o/meta`). */
  metaPath(n: number, bucket: string, key: string): string {
    const parts = key.split('/').map((s, i, a) => s + (i < a.length - 1 ? '.d' : '.o'));
    return join(this.base, `p${n}`, 'd1', bucket, ...parts, 'meta');
  }

  /** The pools (of those listed) whose first drive holds `key`'s metadata. */
  poolsOf(bucket: string, key: string, pools = [1, 2]): number[] {
    return pools.filter((n) => existsSync(this.metaPath(n, bucket, key)));
  }

  /** Object metadata files under pool n's first drive, in the given bucket. */
  async metasIn(n: number, bucket: string): Promise<number> {
    const dir = join(this.base, `p${n}`, 'd1', bucket);
    if (!existsSync(dir)) return 0;
    const files = await readdir(dir, { recursive: true });
    return files.filter((f) => f === 'meta' || f.endsWith('/meta')).length;
  }

  /**
   * Events waiting in the notification and replication queues in the system folders of pool n's drives 1-4, per
   * drive: the events the segments there hold, less those their acknowledgement logs name.
   */
  async queuedIn(n: number): Promise<number[]> {
    const count = async (d: number) => {
      const dir = join(this.base, `p${n}`, `d${d}`, '.cairn.sys');
      // By queue folder and sequence number (each queue numbers its own events).
      const seqs = new Set<string>();
      const acked = new Set<string>();
      for (const sub of ['notify', 'replication'])
        for (const f of await readdir(join(dir, sub), { recursive: true }).catch(() => [] as string[])) {
          const p = parseName(basename(f));
          const queue = join(sub, dirname(f));
          if (p?.kind === 'segment') for (let s = p.first; s < p.first + p.count; s++) seqs.add(`${queue} ${s}`);
          if (p?.kind === 'acks')
            for (const s of decodeAcks(await readFile(join(dir, sub, f), 'utf8'))) acked.add(`${queue} ${s}`);
        }
      return [...seqs].filter((s) => !acked.has(s)).length;
    };
    return Promise.all([1, 2, 3, 4].map(count));
  }

  /** Stops the server and removes every pool's drives. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.base, { recursive: true, force: true });
  }
}
