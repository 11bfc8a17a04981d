// A distributed Cairn on loopback: N `cairn server` processes, each with its own drive folders under a temp
// dir, all given the same explicit list of endpoints (http://127.0.0.1:PORT/BASE/nI/dJ). Ports are picked free
// before the start, below the kernel's ephemeral range; a start that meets EADDRINUSE (another process took one
// meanwhile) is tried again with other ports. Nodes are killed (-9) and started again on their port (`restart`). With `certsDir`, the endpoints are
// https:// and each node is given its certificates directory (--certs-dir): TLS between the nodes. With
// `proxied`, every node reaches every other through a TCP proxy of its own per direction (tcp-proxy.ts, named
// to the node by the test-only CAIRN_TEST_INTERNODE_VIA): `cut(i)` partitions node i from the others (resets),
// `drop(i)` black-holes its links (silence), S3 clients still reaching every node directly.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnCairn } from './cli.js';
import { TcpProxy } from './tcp-proxy.js';
import { ROOT } from './users.js';

export interface ClusterNode {
  index: number;
  port: number;
  url: string;
  child?: ChildProcess;
  /** The messages (`msg`) of the log lines of its current run. */
  messages: string[];
  /** Those log lines' messages with the worker that logged each (`--workers N`: 1 to N; 0 the primary). */
  lines: { msg: string; worker?: number }[];
}

/** How a start ended: serving (its URL) or exited (its code and what it said on stderr). */
export type StartOutcome = { url: string } | { code: number | null; stderr: string };

/**
 * The lowest port of the kernel's ephemeral range (outgoing connections and `listen(0)` take their ports from it).
 * Nodes listen below it: a node killed and started again finds its port free, where a port in that range can be
 * taken meanwhile as the local end of any process's connection (its bind then fails with EADDRINUSE).
 */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * `n` distinct ports free now, at random below the ephemeral range (from 10000); `consecutive`: n in a row (one
 * ellipsis names them: `http://127.0.0.1:{P...P+n-1}/…`).
 */
async function freePorts(n: number, consecutive = false): Promise<number[]> {
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow() - 1);
  const ports: number[] = [];
  while (ports.length < n) {
    const port =
      consecutive && ports.length > 0
        ? ports[ports.length - 1] + 1
        : low + Math.floor(Math.random() * (high - low + 1));
    if (!ports.includes(port) && port <= high && (await canListen(port))) ports.push(port);
    else if (consecutive) ports.length = 0;
  }
  return ports;
}

async function canListen(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise((r) => s.close(r));
  return ok;
}

export interface ClusterOptions {
  /** Node `i`'s certificates directory: https:// endpoints. */
  certsDir?: (i: number) => string;
  /** Every link between two nodes through a TCP proxy, one per direction. */
  proxied?: boolean;
  /**
   * The node that formats a new deployment (the first) started last, once every other one says it waits for
   * the format (or gave up): the others then all find the deployment at about the same moment.
   */
  formatterLast?: boolean;
  /** Node `node` started only once `when` holds for the others (or after 240 s): a node slower to start. */
  late?: { node: number; when: (c: LoopbackCluster) => boolean };
  /** Run once the cluster's folder is made, before any node starts (e.g. mount its drive folders). */
  prepare?: (c: LoopbackCluster) => Promise<void>;
  /**
   * The arguments every node is given, from the nodes' URLs (picked at start), in place of the explicit list of
   * `drivesPerNode` drives per node (server pools: one ellipsis argument per pool, `folder(i, d)`'s folders).
   */
  args?: (urls: string[], c: LoopbackCluster) => string[];
  /** The nodes' ports in a row (node i's is the first plus i), for `args` naming them with one ellipsis. */
  consecutivePorts?: boolean;
  /**
   * Node `i`'s working directory (made before it starts). Endpoints under `/proc/self/cwd/` then name a folder of
   * each node's own: pools of nodes whose ellipsis names the same folders on every node, on one machine.
   */
  cwd?: (i: number, c: LoopbackCluster) => string;
}

/** What a node logs while the deployment's format is not there yet (main.ts openNodeStorage). */
export const WAITING_FOR_FORMAT = "waiting for the deployment's format";

export class LoopbackCluster {
  nodes: ClusterNode[] = [];
  endpoints: string[] = [];
  /** The proxy node `from` dials node `to` through, by `${from}>${to}` (with `proxied`). */
  private links = new Map<string, TcpProxy>();

  private constructor(
    readonly base: string,
    readonly drivesPerNode: number,
    /** Node `i`'s certificates directory (https:// endpoints), or none (http://). */
    readonly certsDir?: (i: number) => string,
    private readonly cwd?: (i: number, c: LoopbackCluster) => string,
  ) {}

  /** Starts `nodes` nodes of `drivesPerNode` drives each; resolves once every one serves S3. */
  static async start(
    nodes: number,
    drivesPerNode: number,
    env: NodeJS.ProcessEnv = {},
    opts: ClusterOptions = {},
  ): Promise<LoopbackCluster> {
    const c = new LoopbackCluster(
      await mkdtemp(join(tmpdir(), 'cairn-cluster-')),
      drivesPerNode,
      opts.certsDir,
      opts.cwd,
    );
    if (opts.cwd) for (let i = 0; i < nodes; i++) await mkdir(opts.cwd(i, c), { recursive: true });
    const scheme = opts.certsDir ? 'https' : 'http';
    await opts.prepare?.(c);
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(nodes, opts.consecutivePorts);
      c.nodes = ports.map((port, index) => ({
        index,
        port,
        url: `${scheme}://127.0.0.1:${port}`,
        messages: [],
        lines: [],
      }));
      if (opts.proxied)
        for (const from of c.nodes)
          for (const to of c.nodes)
            if (from !== to) c.links.set(`${from.index}>${to.index}`, await TcpProxy.start(to.port));
      c.endpoints = opts.args
        ? opts.args(
            c.nodes.map((n) => n.url),
            c,
          )
        : c.nodes.flatMap((n) =>
            Array.from({ length: drivesPerNode }, (_, d) => `${n.url}${join(c.base, `n${n.index + 1}`, `d${d + 1}`)}`),
          );
      const outcomes = opts.formatterLast
        ? await c.startFormatterLast(env)
        : opts.late
          ? await c.startLate(env, opts.late)
          : await Promise.all(c.nodes.map((n) => c.startNode(n.index, { env })));
      if (outcomes.every((o) => 'url' in o)) return c;
      await c.stop();
      await c.closeLinks();
      const taken = outcomes.some((o) => 'stderr' in o && o.stderr.includes('EADDRINUSE'));
      if (!taken || attempt === 3) throw new Error(`cluster did not start: ${JSON.stringify(outcomes)}`);
    }
  }

  private async startFormatterLast(env: NodeJS.ProcessEnv): Promise<StartOutcome[]> {
    const others = this.nodes.slice(1);
    const ended = new Set<number>();
    const started = others.map((n) =>
      this.startNode(n.index, { env }).then((o) => {
        ended.add(n.index);
        return o;
      }),
    );
    const waits = (n: ClusterNode) => ended.has(n.index) || n.messages.some((m) => m.startsWith(WAITING_FOR_FORMAT));
    // Generous: a loaded machine can take minutes to start the others' checks with each other.
    const deadline = Date.now() + 240_000;
    while (!others.every(waits) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    return Promise.all([this.startNode(0, { env }), ...started]);
  }

  private async startLate(env: NodeJS.ProcessEnv, late: NonNullable<ClusterOptions['late']>): Promise<StartOutcome[]> {
    const started = this.nodes.filter((n) => n.index !== late.node).map((n) => this.startNode(n.index, { env }));
    const deadline = Date.now() + 240_000;
    while (!late.when(this) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    return Promise.all([...started, this.startNode(late.node, { env })]);
  }

  /**
   * Starts node `i` (again) with the deployment's endpoints, or `args` instead, root credentials `secret` and
   * its certificates directory, or `certsDir` instead ('' for none). Resolves when it serves or when it exits.
   */
  startNode(
    i: number,
    opts: { args?: string[]; secret?: string; env?: NodeJS.ProcessEnv; certsDir?: string } = {},
  ): Promise<StartOutcome> {
    const node = this.nodes[i];
    const certsDir = opts.certsDir ?? this.certsDir?.(i);
    const tls = certsDir ? ['--certs-dir', certsDir] : [];
    const args = ['server', '--address', `127.0.0.1:${node.port}`, ...tls, ...(opts.args ?? this.endpoints)];
    const via = this.nodes
      .filter((n) => this.links.has(`${i}>${n.index}`))
      .map((n) => `${n.url}=127.0.0.1:${this.links.get(`${i}>${n.index}`)!.port}`);
    const child = spawnCairn(
      args,
      {
        ...(via.length > 0 ? { CAIRN_TEST_INTERNODE_VIA: via.join(',') } : {}),
        CAIRN_ROOT_USER: ROOT.accessKey,
        CAIRN_ROOT_PASSWORD: opts.secret ?? ROOT.secretKey,
        CAIRN_LOG_LEVEL: 'info',
        ...opts.env,
      },
      undefined,
      this.cwd?.(i, this),
    );
    node.child = child;
    const messages: string[] = (node.messages = []);
    const lines: ClusterNode['lines'] = (node.lines = []);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    return new Promise((resolve) => {
      child.once('exit', (code) => {
        if (node.child === child) node.child = undefined;
        resolve({ code, stderr });
      });
      createInterface({ input: child.stdout! }).on('line', (text) => {
        try {
          const line = JSON.parse(text) as { url?: unknown; msg?: unknown; worker?: unknown };
          if (typeof line.msg === 'string') {
            messages.push(line.msg);
            lines.push({ msg: line.msg, worker: typeof line.worker === 'number' ? line.worker : undefined });
          }
          if (typeof line.url === 'string') resolve({ url: line.url });
        } catch {
          // not a log line
        }
      });
    });
  }

  /**
   * Starts node `i` again (startNode's options) and resolves once it serves; throws with its exit code and the end
   * of its stderr when it exits instead. A port still held (EADDRINUSE) is waited for, a few seconds.
   */
  async restart(i: number, opts: Parameters<LoopbackCluster['startNode']>[1] = {}): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const o = await this.startNode(i, opts);
      if ('url' in o) return o.url;
      if (!o.stderr.includes('EADDRINUSE') || attempt === 10)
        throw new Error(`node ${i + 1} did not start again (exit ${o.code}): ${o.stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** kill -9 of node `i`; resolves once it is gone. */
  async kill9(i: number): Promise<void> {
    const child = this.nodes[i].child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = once(child, 'exit');
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGSTOP of node `i`: it holds its connections but answers nothing (a partition, as the others see it). */
  pause(i: number): void {
    this.nodes[i].child?.kill('SIGSTOP');
  }

  resume(i: number): void {
    this.nodes[i].child?.kill('SIGCONT');
  }

  /** Node `i` cut off from the others (both directions; `proxied` clusters): their connections reset. */
  cut(i: number): void {
    for (const [k, p] of this.links) if (k.split('>').includes(String(i))) p.cut();
  }

  /** Node `i`'s links black-holed (both directions): nothing forwarded, nothing reset; `reconnect` ends it. */
  drop(i: number): void {
    for (const [k, p] of this.links) if (k.split('>').includes(String(i))) p.drop();
  }

  /** Node `i`'s links back. */
  reconnect(i: number): void {
    for (const [k, p] of this.links) if (k.split('>').includes(String(i))) p.restore();
  }

  private async closeLinks(): Promise<void> {
    await Promise.all([...this.links.values()].map((p) => p.close()));
    this.links.clear();
  }

  /** Folder of drive `d` (from 0) of node `i` (from 0). */
  folder(i: number, d: number): string {
    return join(this.base, `n${i + 1}`, `d${d + 1}`);
  }

  /** Stops every node (SIGTERM, then waits); the folders stay until `remove`. */
  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const child = n.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const gone = once(child, 'exit');
        child.kill('SIGTERM');
        await gone;
      }),
    );
  }

  async remove(): Promise<void> {
    await this.stop();
    await this.closeLinks();
    await rm(this.base, { recursive: true, force: true });
  }
}
