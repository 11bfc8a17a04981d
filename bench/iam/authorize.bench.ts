// Authorization with IAM at scale: 10,000 users, 1,000 managed policies of 100 statements each, 100 groups.
// Each user has 5 policies attached and is in one group with 3 more (800 statements apply to it); requests
// are GetObject, PutObject and ListBucket on 20 buckets, decided by api/authorize.ts isAllowed exactly as a
// request is (bucket settings, condition context, identity policies, bucket policy, ACLs). Prints, per case,
// the CPU time per authorization (process.cpuUsage over the batch) and the wall time.
//
//   npm run -w bench iam                         (BENCH_IAM_REQUESTS=200000, BENCH_DIR=/dev/shm)
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { accountsOf } from '../../server/src/api/acl.js';
import { isAllowed, type AccessRequest } from '../../server/src/api/authorize.js';
import { rootCaller, userCaller, staticCaller } from '../../server/src/api/iam/principal.js';
import type { GroupRecord, ManagedPolicyRecord, UserRecord } from '../../server/src/api/iam/records.js';
import { IamStore } from '../../server/src/api/iam/store.js';
import type { ApiContext, Caller } from '../../server/src/api/types.js';
import { openStorage } from '../../server/src/storage/index.js';
import { statement } from './statements.js';

const USERS = 10_000;
const POLICIES = 1_000;
const STATEMENTS = 100;
const GROUPS = 100;
const BUCKETS = 20;
const REQUESTS = Number(process.env.BENCH_IAM_REQUESTS ?? 200_000);
const ROOT = { accessKey: 'benchroot', secretKey: 'benchroot-secret' };
const STATIC = { accessKey: 'benchstatic', secretKey: 'benchstatic-secret' };

// A seeded generator: the same population every run.
let seed = 42;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

async function main(): Promise<void> {
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? '/dev/shm', 'cairn-iam-bench-'));
  const storage = await openStorage({ drives: [1, 2, 3, 4].map((i) => join(dir, `d${i}`)), background: false });
  try {
    for (let b = 0; b < BUCKETS; b++) await storage.makeBucket(`bench-${b}`);
    await storage.makeBucket('bench-static', { owner: STATIC.accessKey });
    const accounts = accountsOf({ root: ROOT, users: [STATIC] });
    const iam = new IamStore({ storage, root: ROOT, staticUsers: [STATIC], accounts, now: Date.now });

    const t0 = performance.now();
    for (let p = 0; p < POLICIES; p++) {
      const doc = JSON.stringify({
        Version: '2012-10-17',
        Statement: Array.from({ length: STATEMENTS }, (_, s) => statement(p, s, `bench-${(p + s) % BUCKETS}`)),
      });
      const rec: ManagedPolicyRecord = {
        name: `pol-${p}`,
        path: '/',
        id: `ANPA${p}`,
        created: 0,
        updated: 0,
        versions: [{ id: 'v1', document: doc, created: 0 }],
        defaultVersion: 'v1',
      };
      iam.apply('policy', rec.name, rec);
      iam.compile(doc, 'identity');
    }
    const compileMs = performance.now() - t0;
    for (let g = 0; g < GROUPS; g++) {
      const members = Array.from({ length: USERS / GROUPS }, (_, i) => `user-${g + i * GROUPS}`);
      const rec: GroupRecord = {
        name: `group-${g}`,
        path: '/',
        id: `AGPA${g}`,
        created: 0,
        status: 'enabled',
        members,
        inline: {},
        attached: [0, 1, 2].map(() => `pol-${rand(POLICIES)}`),
      };
      iam.apply('group', rec.name, rec);
    }
    const users: UserRecord[] = [];
    for (let u = 0; u < USERS; u++) {
      const rec: UserRecord = {
        name: `user-${u}`,
        path: '/',
        id: `AIDA${u}`,
        created: 0,
        status: 'enabled',
        keys: [{ id: `AKIA${u}`, secret: 's', status: 'Active', created: 0 }],
        tags: {},
        inline: {},
        attached: Array.from({ length: 5 }, () => `pol-${rand(POLICIES)}`),
      };
      iam.apply('user', rec.name, rec);
      users.push(rec);
    }
    const worst: UserRecord = {
      ...users[0],
      name: 'user-all',
      id: 'AIDAALL',
      keys: [{ id: 'AKIAALL', secret: 's', status: 'Active', created: 0 }],
      attached: Array.from({ length: POLICIES }, (_, p) => `pol-${p}`),
    };
    iam.apply('user', worst.name, worst);

    const ctx: ApiContext = {
      storage,
      region: 'us-east-1',
      owner: { id: accounts.idOf(ROOT.accessKey), displayName: ROOT.accessKey },
      accounts,
      iam,
      now: Date.now,
    };
    const callers = users.map((u) => userCaller(u.keys[0].id, ROOT.accessKey, u));
    const actions = ['s3:GetObject', 's3:PutObject', 's3:ListBucket'];
    type Case = { caller: Caller; action: string; bucket: string; key?: string; prefix?: string };
    const randomCase = (caller: Caller, u: number): Case => {
      const action = actions[rand(3)];
      const bucket = `bench-${rand(BUCKETS)}`;
      const team = rand(50);
      const key = rand(2) ? `team-${team}/f${rand(1000)}` : `user-${u}/f${rand(1000)}`;
      return action === 's3:ListBucket'
        ? { caller, action, bucket, prefix: `team-${team}/` }
        : { caller, action, bucket, key };
    };
    const request = (c: Case): AccessRequest => ({
      caller: c.caller,
      headers: { 'user-agent': 'bench' },
      query: new URLSearchParams(c.prefix ? { prefix: c.prefix } : {}),
      sourceIp: '127.0.0.1',
      secure: false,
      auth: { signature: { version: 'AWS4-HMAC-SHA256', type: 'REST-HEADER', signedAt: Date.now() } },
    });

    async function measure(label: string, cases: Case[]): Promise<void> {
      const reqs = cases.map(request);
      let allowed = 0;
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        if (await isAllowed(ctx, reqs[i], c.action, { bucket: c.bucket, key: c.key })) allowed++;
      }
      const wall = performance.now() - w0;
      const cpu = process.cpuUsage(cpu0);
      const us = (cpu.user + cpu.system) / cases.length;
      rows.push({
        case: label,
        requests: cases.length,
        allowed: `${((100 * allowed) / cases.length).toFixed(0)}%`,
        cpu: us.toFixed(2),
        wall: ((wall * 1000) / cases.length).toFixed(2),
      });
    }
    const rows: Record<string, string | number>[] = [];

    // First request of each user: its 800 statements are gathered and indexed for the action (then kept).
    await measure(
      'first request of each user',
      users.map((_, u) => randomCase(callers[u], u)),
    );
    const warm = Array.from({ length: REQUESTS }, () => {
      const u = rand(USERS);
      return randomCase(callers[u], u);
    });
    await measure('random user, action, bucket', warm);
    await measure('again (steady state)', warm);
    const all = userCaller('AKIAALL', ROOT.accessKey, worst);
    await measure(
      'one user with all 1,000 policies',
      Array.from({ length: 20_000 }, () => randomCase(all, 0)),
    );
    const root = rootCaller(ROOT.accessKey, accounts.idOf(ROOT.accessKey));
    await measure(
      'root',
      Array.from({ length: 20_000 }, () => randomCase(root, 0)),
    );
    const owner = staticCaller(STATIC.accessKey, accounts.idOf(STATIC.accessKey));
    await measure(
      'static user, its own bucket',
      Array.from({ length: 20_000 }, () => ({ ...randomCase(owner, 0), bucket: 'bench-static' })),
    );

    console.log(`IAM authorization: ${USERS} users, ${POLICIES} policies x ${STATEMENTS} statements, ${GROUPS} groups`);
    console.log(
      `compiling the ${POLICIES} policies: ${compileMs.toFixed(0)} ms (${((compileMs * 1000) / POLICIES / STATEMENTS).toFixed(1)} us a statement)`,
    );
    const cols = ['case', 'requests', 'allowed', 'cpu', 'wall'];
    const head: Record<string, string> = {
      case: 'case',
      requests: 'requests',
      allowed: 'allowed',
      cpu: 'CPU us/request',
      wall: 'wall us/request',
    };
    const widths = cols.map((c) => Math.max(head[c].length, ...rows.map((r) => String(r[c]).length)));
    const line = (r: Record<string, string | number>) =>
      cols.map((c, i) => (i === 0 ? String(r[c]).padEnd(widths[i]) : String(r[c]).padStart(widths[i]))).join('  ');
    console.log(line(head));
    for (const r of rows) console.log(line(r));
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
