// The drives of a distributed deployment as the command line names them: `http://host:port/folder` endpoints
// (https:// when the nodes talk TLS: all of one scheme),
// MinIO's ellipsis forms (`http://127.0.0.1:{9001...9004}/mnt/d{1...2}`) or an explicit list. Every node runs
// the same arguments, so every node computes the same plan: the endpoints in set order, the set size, the
// nodes, and a digest the nodes compare at start-up (bootstrap.ts). This node is the one whose --address the
// endpoints name.
import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { parseAddress } from '../http/address.js';
import { expandDrives } from '../storage/expand.js';
import { parseRemoteEndpoint } from '../storage/rpc/index.js';

export interface ClusterPlan {
  /** Every endpoint in slot order: set i holds endpoints [i * setSize, (i + 1) * setSize). */
  endpoints: string[];
  setSize: number;
  /** The nodes' origins (`http://host:port`), in the order the arguments first name them. */
  nodes: string[];
  /** https:// endpoints: the nodes talk TLS to each other (storage/rpc/transport.ts). */
  secure: boolean;
  /** This node's index in `nodes`. */
  self: number;
  /** This node's drive folders, as the endpoints name them. */
  localFolders: string[];
  /** What every node of the deployment must agree on (the endpoints in slot order and the set size). */
  digest: string;
}

/** Whether a drive argument names a drive of a node (MinIO's distributed form) rather than a local folder. */
export function isEndpointArgument(arg: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg);
}

/** Set sizes MinIO accepts. */
const MIN_SET = 2;
const MAX_SET = 16;

/** An argument in MinIO's ellipsis form (`{1...4}`). */
const isEllipsis = (arg: string) => /\{\d+\.\.\.\d+\}/.test(arg);

/**
 * The plan of `args` for the node listening on `address`. Throws with a message an operator can act on when
 * the arguments cannot make a deployment or do not name this node.
 */
export function planCluster(args: string[], address: string, localHosts = localAddresses()): ClusterPlan {
  if (args.length > 1 && args.some(isEllipsis))
    throw new Error(
      'several arguments with ellipses would make server pools of several nodes, which Cairn does not have yet ' +
        '(pools of local folders it has): give one ellipsis argument (http://host{1...4}:9000/mnt/d{1...4}) or an ' +
        'explicit list of endpoints',
    );
  const pool = planPool(args);
  const self = findSelf(pool.nodes, address, localHosts);
  const { endpoints, setSize } = pool;
  const digest = createHash('sha256').update(JSON.stringify({ endpoints, setSize })).digest('hex');
  return { endpoints, setSize, nodes: pool.nodes, secure: pool.secure, self, localFolders: pool.folders(self), digest };
}

/** One pool of a deployment's plan: its endpoints in slot order, its set size, and this node's folders in it. */
export interface PoolPlan {
  endpoints: string[];
  setSize: number;
  /** This node's drive folders in the pool (none: the node has no drive in it). */
  localFolders: string[];
}

/** The plan of a deployment of one or several server pools of nodes (docs/ARCHITECTURE.md). */
export interface PoolsPlan {
  /** In argument order. */
  pools: PoolPlan[];
  /** This node's drive folders in every pool (what its storage RPC serves). */
  localFolders: string[];
  /** Every pool's nodes, in the order the arguments first name them. */
  nodes: string[];
  secure: boolean;
  /** This node's index in `nodes`. */
  self: number;
  /** What every node must agree on: each pool's endpoints and set size (one pool: planCluster's digest). */
  digest: string;
}

/**
 * Server pools of nodes, as MinIO takes them: each ellipsis argument (`http://n{1...4}:9000/d{1...4}`) is a pool
 * planned as one deployment's drives are (its own sets, spread over its own nodes); one argument, or an explicit
 * list, is one pool (planCluster). The pools may share nodes (each its own folders there) or not; a node may have
 * no drive in some pool. Refused: a pool given as an explicit list beside others, an endpoint in two pools, http://
 * and https:// mixed, and arguments that do not name this node.
 */
export function planPools(args: string[], address: string, localHosts = localAddresses()): PoolsPlan {
  if (args.length <= 1 || !args.some(isEllipsis)) {
    const one = planCluster(args, address, localHosts);
    return {
      pools: [{ endpoints: one.endpoints, setSize: one.setSize, localFolders: one.localFolders }],
      localFolders: one.localFolders,
      nodes: one.nodes,
      secure: one.secure,
      self: one.self,
      digest: one.digest,
    };
  }
  const plain = args.find((a) => !isEllipsis(a));
  if (plain !== undefined)
    throw new Error(
      `${plain}: with several server pools give each pool as one ellipsis argument (http://host{1...4}:9000/d{1...4})`,
    );
  const pools = args.map((a) => planPool([a]));
  const secure = pools[0].secure;
  const seen = new Set<string>();
  for (const [i, p] of pools.entries()) {
    if (p.secure !== secure)
      throw new Error(
        `${args[i]}: give every pool the same scheme (all http://, or all https:// for TLS between nodes)`,
      );
    for (const e of p.endpoints) {
      if (seen.has(e)) throw new Error(`the endpoint ${e} is in two pools: give each pool its own folders`);
      seen.add(e);
    }
  }
  const nodes = [...new Set(pools.flatMap((p) => p.nodes))];
  const self = findSelf(nodes, address, localHosts);
  const digest = createHash('sha256')
    .update(JSON.stringify({ pools: pools.map(({ endpoints, setSize }) => ({ endpoints, setSize })) }))
    .digest('hex');
  const planned = pools.map((p) => ({
    endpoints: p.endpoints,
    setSize: p.setSize,
    localFolders: p.folders(self, nodes),
  }));
  return {
    pools: planned,
    localFolders: planned.flatMap((p) => p.localFolders),
    nodes,
    secure,
    self,
    digest,
  };
}

/** One pool's endpoints: checked, dealt round robin over its nodes, cut into sets. */
function planPool(args: string[]) {
  const expanded = expandDrives(...args);
  const byNode = new Map<string, string[]>();
  const secure = /^https:/i.test(expanded[0] ?? '');
  for (const e of expanded) {
    const r = parseRemoteEndpoint(e);
    if (!r || !/^\/./.test(r.folder) || r.folder.endsWith('/'))
      throw new Error(`${e} is not an endpoint http://host:port/absolute/folder (or https://)`);
    if (/^https:/i.test(e) !== secure)
      throw new Error(`${e}: give every endpoint the same scheme (all http://, or all https:// for TLS between nodes)`);
    if (new URL(e).port === '') throw new Error(`${e} names no port: give host:port`);
    const list = byNode.get(r.origin) ?? [];
    if (list.includes(e)) throw new Error(`the endpoint ${e} is given twice`);
    list.push(e);
    byNode.set(r.origin, list);
  }
  const nodes = [...byNode.keys()];
  // Round robin over the nodes: consecutive slots are on different nodes, so each set spreads over them
  // (the order MinIO's ellipsis expansion gives, host varying fastest).
  const endpoints: string[] = [];
  for (let i = 0; endpoints.length < expanded.length; i++)
    for (const n of nodes) {
      const e = byNode.get(n)![i];
      if (e !== undefined) endpoints.push(e);
    }
  const setSize = chooseSetSize(endpoints.length, nodes.length);
  checkSpread(endpoints, setSize, nodes.length);
  return {
    endpoints,
    setSize,
    nodes,
    secure,
    /** The folders of node `self` (an index in `all`, default this pool's nodes). */
    folders: (self: number, all = nodes) => (byNode.get(all[self]) ?? []).map((e) => parseRemoteEndpoint(e)!.folder),
  };
}

/** The index of this node (listening on `address`) among `nodes`; throws when none is. */
function findSelf(nodes: string[], address: string, localHosts: Set<string>): number {
  const { host, port } = parseAddress(address);
  if (port === 0) throw new Error('a node of a distributed deployment needs a fixed --address port, not 0');
  const anyHost = host === '0.0.0.0' || host === '::';
  const self = nodes.findIndex((origin) => {
    const u = new URL(origin);
    if (Number(u.port) !== port) return false;
    const h = u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    return h === host.toLowerCase() || (anyHost && localHosts.has(h));
  });
  if (self < 0)
    throw new Error(
      `none of the endpoints is this node (--address ${address}); nodes named: ${nodes.join(', ')}. ` +
        'Start each node with the --address its endpoints name',
    );
  return self;
}

/**
 * MinIO's choice: the largest size of 2..16 that divides the drive count and is symmetric with the nodes
 * (a multiple or a divisor of their count), so every set has as many drives on each node as it can.
 */
export function chooseSetSize(drives: number, nodes: number): number {
  if (drives === 1) return 1;
  for (let s = Math.min(MAX_SET, drives); s >= MIN_SET; s--)
    if (drives % s === 0 && (s % nodes === 0 || nodes % s === 0)) return s;
  throw new Error(
    `${drives} drives on ${nodes} nodes cannot be split symmetrically into erasure sets of ${MIN_SET} to ` +
      `${MAX_SET} drives; give each node the same number of drives`,
  );
}

/** Refuses a layout in which losing one node would cost some set more than its parity (half the set). */
function checkSpread(endpoints: string[], setSize: number, nodes: number): void {
  if (nodes < 2) return;
  const parity = Math.floor(setSize / 2);
  for (let i = 0; i < endpoints.length; i += setSize) {
    const count = new Map<string, number>();
    for (const e of endpoints.slice(i, i + setSize)) {
      const origin = new URL(e).origin;
      const n = (count.get(origin) ?? 0) + 1;
      count.set(origin, n);
      if (n > parity)
        throw new Error(
          `erasure set ${i / setSize + 1} would hold ${n} of its ${setSize} drives on ${origin}: losing that ` +
            'node would lose the set; give each node the same number of drives',
        );
    }
  }
}

/** Host names and addresses of this machine (for `--address :PORT`). */
function localAddresses(): Set<string> {
  const out = new Set(['localhost', '127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address.toLowerCase());
  return out;
}
