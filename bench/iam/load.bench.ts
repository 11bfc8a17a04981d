// Issue 15's load target: the 4 KiB PUT and GET phases of the load suite (bench/load/suite.ts: 5,000 objects,
// concurrency 32) as the root user and as an IAM user, on one Cairn, the two callers alternating round by
// round so that the machine's other load falls on both alike. The IAM user is what a deployment has: five
// managed policies (two through a group) of 20 statements each, conditions included, 100 statements in all,
// among `--users` other users and `--policies` other policies made through the IAM API first. Prints one
// table (ops/s, latency, the server's CPU-seconds per 1,000 requests from /proc) and the IAM/root ratios.
//
//   npm run -w bench iam-load -- [--duration 10s] [--rounds 2] [--users 1000] [--policies 100] [--workers N]
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { LoadConfig } from '../load/config.js';
import { ProcSampler } from '../load/procstat.js';
import { table } from '../load/results.js';
import { ensureBucket, prepareObjects, runPhase } from '../load/run.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, startCairn, stopServer } from '../load/servers.js';
import { parseDuration } from '../load/units.js';
import { statement } from './statements.js';

const BUCKET = 'load';
const PREFIX = 'suite-4KiB/';
const ROOT = { accessKey: 'cairn-load', secretKey: 'cairn-load-secret-key' };

const { values: v } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    rounds: { type: 'string', default: '2' },
    users: { type: 'string', default: '1000' },
    policies: { type: 'string', default: '100' },
    workers: { type: 'string' },
    'drives-dir': { type: 'string', default: '/dev/shm' },
  },
  strict: true,
});

const policyDoc = (p: number, extra: object[] = []) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [...Array.from({ length: 20 - extra.length }, (_, s) => statement(p, s, `data-${p % 20}`)), ...extra],
  });

/** Runs `n` tasks, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function main(): Promise<void> {
  const durationMs = parseDuration(v.duration!);
  const rounds = Number(v.rounds);
  const users = Number(v.users);
  const policies = Number(v.policies);
  const cairn = await startCairn(
    await cairnCommand(DEFAULT_CAIRN_BIN, false),
    v['drives-dir']!,
    ROOT.accessKey,
    ROOT.secretKey,
    v.workers ? { CAIRN_WORKERS: v.workers } : {},
  );
  const sampler = new ProcSampler(cairn.child.pid!);
  try {
    const iam = new IAMClient({
      endpoint: cairn.url,
      region: 'us-east-1',
      credentials: { accessKeyId: ROOT.accessKey, secretAccessKey: ROOT.secretKey },
    });
    const arn = (name: string) => `arn:aws:iam:::policy/${name}`;
    const t0 = performance.now();
    await pool(policies, 8, (p) =>
      iam.send(new CreatePolicyCommand({ PolicyName: `pol-${p}`, PolicyDocument: policyDoc(p) })),
    );
    await pool(users, 8, (u) => iam.send(new CreateUserCommand({ UserName: `user-${u}` })));
    const populateS = (performance.now() - t0) / 1000;
    // The measured user: 3 policies of its own, 2 through its group; the 4 KiB objects are allowed by one
    // statement among the 100 (the last of its last policy), as a real grant sits among others.
    const grant = {
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject'],
      Resource: `arn:aws:s3:::${BUCKET}/${PREFIX}*`,
      Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } },
    };
    for (let i = 0; i < 5; i++) {
      await iam.send(
        new CreatePolicyCommand({
          PolicyName: `loader-${i}`,
          PolicyDocument: policyDoc(1000 + i, i === 4 ? [grant] : []),
        }),
      );
    }
    await iam.send(new CreateUserCommand({ UserName: 'loader' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'loaders' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'loaders', UserName: 'loader' }));
    for (let i = 0; i < 3; i++)
      await iam.send(new AttachUserPolicyCommand({ UserName: 'loader', PolicyArn: arn(`loader-${i}`) }));
    for (let i = 3; i < 5; i++)
      await iam.send(new AttachGroupPolicyCommand({ GroupName: 'loaders', PolicyArn: arn(`loader-${i}`) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'loader' }))).AccessKey!;
    const callers = [
      { name: 'root', accessKey: ROOT.accessKey, secretKey: ROOT.secretKey },
      { name: 'IAM user', accessKey: key.AccessKeyId!, secretKey: key.SecretAccessKey! },
    ];

    const base = (c: (typeof callers)[number], mode: 'put' | 'get'): LoadConfig => ({
      name: `${mode}-4KiB ${c.name}`,
      mode,
      endpoint: cairn.url,
      accessKey: c.accessKey,
      secretKey: c.secretKey,
      region: 'us-east-1',
      bucket: BUCKET,
      prefix: PREFIX,
      objSize: 4096,
      objects: 5000,
      concurrency: 32,
      durationMs,
      rangeSize: 0,
      rangeAlign: 1,
      getRatio: 0.8,
      listMaxKeys: 1000,
      workers: 0,
      prepare: false,
    });
    await ensureBucket(base(callers[0], 'put'));
    await prepareObjects(base(callers[0], 'put'), (l) => console.error(l));
    sampler.start();
    type Row = {
      mode: string;
      caller: string;
      round: number;
      ops: number;
      p50: number;
      p99: number;
      cpuPerK: number;
      errors: number;
      load: number;
    };
    const rows: Row[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const mode of ['put', 'get'] as const) {
        // Root first in odd rounds, the IAM user first in even ones.
        const order = round % 2 ? callers : [...callers].reverse();
        for (const c of order) {
          const cfg = base(c, mode);
          const load = loadavg()[0];
          console.error(
            `${cfg.name}, round ${round}: ${durationMs / 1000} s at concurrency 32, load average ${load.toFixed(1)} ...`,
          );
          const cpu0 = await sampler.cpuSeconds();
          const r = await runPhase(cfg);
          const cpu = (await sampler.cpuSeconds()) - cpu0;
          const s = r.ops[mode]!;
          rows.push({
            mode,
            caller: c.name,
            round,
            ops: s.opsPerSec,
            p50: s.latency.p50,
            p99: s.latency.p99,
            cpuPerK: s.ops ? (cpu * 1000) / s.ops : Number.NaN,
            errors: s.errors,
            load,
          });
        }
      }
    }
    const out = [
      ['run', 'caller', 'round', 'ops/s', 'p50 ms', 'p99 ms', 'server CPU-s / 1,000 req', 'errors', 'load avg'],
    ];
    for (const r of rows) {
      out.push([
        `${r.mode} 4 KiB c32`,
        r.caller,
        String(r.round),
        r.ops.toFixed(0),
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        r.cpuPerK.toFixed(3),
        String(r.errors),
        r.load.toFixed(1),
      ]);
    }
    const sum = (mode: string, caller: string, f: (r: Row) => number) =>
      rows.filter((r) => r.mode === mode && r.caller === caller).reduce((n, r) => n + f(r), 0);
    // The target: IAM on costs at most 5%: ops/s at least 95% of root's, server CPU per request at most 105%
    // (the steadier figure on a shared machine). Means over the rounds.
    const verdict = [['', 'IAM user / root: ops/s', 'verdict', 'server CPU per request', 'verdict']];
    for (const mode of ['put', 'get']) {
      const ratio = (f: (r: Row) => number) => sum(mode, 'IAM user', f) / sum(mode, 'root', f);
      const opsRatio = ratio((r) => r.ops);
      const cpuRatio = ratio((r) => r.cpuPerK);
      verdict.push([
        `${mode} 4 KiB`,
        `${(opsRatio * 100).toFixed(1)}%`,
        opsRatio >= 0.95 ? '>= 95%: PASS' : '>= 95%: FAIL',
        `${(cpuRatio * 100).toFixed(1)}%`,
        cpuRatio <= 1.05 ? '<= 105%: PASS' : '<= 105%: FAIL',
      ]);
    }
    console.log(
      `\nCairn ${cairn.url}, ${v.workers ?? 'default'} workers; IAM: ${users} users and ${policies} policies of 20 statements made in ${populateS.toFixed(1)} s, the IAM user with 100 statements (3 policies + 2 through a group)\n`,
    );
    console.log(table(out));
    console.log(`\n${table(verdict)}`);
  } finally {
    sampler.stop();
    await stopServer(cairn, false);
  }
}

await main();
